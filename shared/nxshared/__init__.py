"""The suite's common library. It knows no service: services plug their tables, schemas and
handlers into what is here."""
