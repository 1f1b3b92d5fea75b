"""Fixed demo credentials of the simulated organisation (docs/contracts.md).

They are not secrets: they exist only inside the simulator and are documented in its README.
"""

READONLY_API_KEY = "sim-readonly-key-0001"
READONLY_API_KEY_NAME = "NIS2 reporting (read-only)"
CONSOLE_EMAIL = "compliance.officer@example.org"
CONSOLE_PASSWORD = "sim-console-password"  # noqa: S105 - documented demo value
CONSOLE_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - documented demo value
