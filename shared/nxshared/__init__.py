"""The suite's common library. It knows no service: services plug their tables, schemas and
handlers into what is here."""

import warnings

# nameko 2.14 runs on eventlet, which warns on import that it is in maintenance mode; we know.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
