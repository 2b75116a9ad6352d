"""The pure part of the suite's library: what a service's domain may import.

Nothing here imports nameko, eventlet, kombu, SQLAlchemy, jwt or marshmallow (an import-linter
contract says so): errors and their codes, who the caller is and who owns a project, money, the
typed events a decision returns, and the unit-of-work protocol with its in-memory fake.
"""
