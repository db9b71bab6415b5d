"""sspr: self-service password reset in front of an LDAP directory."""

__version__ = "0.1.0"
