"""The Wazuh rules the simulated alerts fire: stock rule ids, levels, descriptions, groups and
compliance tags where Wazuh ships the rule; 100200-100299 are this organisation's custom
Keycloak rules (Wazuh has no Keycloak ruleset). Rule id -> (level, description, groups,
MITRE ids, PCI DSS, NIST 800-53; None where the rule has none)."""

from __future__ import annotations

GDPR_AUTH = ["IV_35.7.d", "IV_32.2"]
RULES = {
    "5501": (
        3,
        "PAM: Login session opened.",
        ["pam", "syslog", "authentication_success"],
        None,
        ["10.2.5"],
        ["AC.7", "AU.14"],
    ),
    "5715": (
        3,
        "sshd: authentication success.",
        ["syslog", "sshd", "authentication_success"],
        ["T1078", "T1021"],
        ["10.2.5"],
        ["AU.14", "AC.7"],
    ),
    "5710": (
        5,
        "sshd: Attempt to login using a non-existent user",
        ["syslog", "sshd", "authentication_failed", "invalid_login"],
        ["T1110.001", "T1021.004"],
        ["10.2.4", "10.2.5", "10.6.1"],
        ["AU.14", "AC.7", "AU.6"],
    ),
    "31101": (
        5,
        "Web server 400 error code.",
        ["web", "accesslog", "attack"],
        None,
        ["6.5", "11.4"],
        ["SA.11", "SI.4"],
    ),
    "31123": (  # the ruleset gives it no compliance tags
        4,
        "Web server 503 error code (Service unavailable).",
        ["web", "accesslog"],
        None,
        None,
        None,
    ),
    "504": (
        3,
        "Wazuh agent disconnected.",
        ["wazuh", "agent_disconnected"],
        ["T1562.001"],
        ["10.6.1", "10.2.6"],
        ["AU.6", "AU.14", "AU.5"],
    ),
    "503": (
        3,
        "Wazuh agent started.",
        ["wazuh", "agent_started"],
        None,
        ["10.6.1", "10.2.6"],
        ["AU.6"],
    ),
    "100210": (
        5,
        "Keycloak: login failure.",
        ["keycloak", "authentication_failed"],
        ["T1110"],
        ["10.2.4", "10.2.5"],
        ["AU.14", "AC.7"],
    ),
    "100211": (
        10,
        "Keycloak: multiple login failures for one user (possible brute force).",
        ["keycloak", "authentication_failures"],
        ["T1110.001"],
        ["11.4", "10.2.4", "10.2.5"],
        ["SI.4", "AU.14", "AC.7"],
    ),
    "100212": (
        12,
        "Keycloak: login failures for many users from one source (password spray).",
        ["keycloak", "authentication_failures"],
        ["T1110.003"],
        ["11.4", "10.2.4", "10.2.5"],
        ["SI.4", "AU.14", "AC.7"],
    ),
    "100213": (
        10,
        "Keycloak: successful login after multiple failures from the same source.",
        ["keycloak", "authentication_success"],
        ["T1078", "T1110"],
        ["10.2.5"],
        ["AU.14", "AC.7"],
    ),
    "100220": (
        8,
        "Keycloak admin: realm role mapping created.",
        ["keycloak", "admin_event", "account_changed"],
        ["T1098"],
        ["10.2.2", "8.1.2"],
        ["AC.2", "AU.14"],
    ),
}
MITRE_TACTIC = {
    "T1078": "Defense Evasion",
    "T1021": "Lateral Movement",
    "T1110": "Credential Access",
    "T1110.001": "Credential Access",
    "T1110.003": "Credential Access",
    "T1021.004": "Lateral Movement",
    "T1190": "Initial Access",
    "T1562.001": "Defense Evasion",
    "T1098": "Persistence",
}
