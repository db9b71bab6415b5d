"""A throw-away certificate authority for the demo's and the tests' TLS listeners."""

from __future__ import annotations

import subprocess
from pathlib import Path


class CertificateError(RuntimeError):
    """openssl could not make the certificates."""


def make_certificates(directory: Path, address: str = "127.0.0.1") -> None:
    """A throw-away CA, and a server certificate it signs for `address` and localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (directory / "san.ext").write_text(f"subjectAltName=IP:{address},DNS:localhost\n")
    signed = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2"]
    commands = [
        ["req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=sspr CA"],
        ["req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={address}"],
        ["x509", "-req", "-in", "server.csr", *signed, "-out", "server.pem", "-extfile", "san.ext"],
    ]
    for command in commands:
        result = subprocess.run(
            ["openssl", *command], cwd=directory, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise CertificateError(
                f"openssl {command[0]} failed: {result.stderr.decode(errors='replace')}"
            )


def tls_settings(directory: Path) -> str:
    """slapd's cn=config attributes for the certificates make_certificates wrote."""
    return (
        f"\nolcTLSCACertificateFile: {directory / 'ca.pem'}"
        f"\nolcTLSCertificateFile: {directory / 'server.pem'}"
        f"\nolcTLSCertificateKeyFile: {directory / 'server.key'}"
    )
