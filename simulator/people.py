"""Fictitious end customers and companies for verification sessions (no real persons)."""

FIRST_NAMES = (
    "Alma",
    "Bruno",
    "Chiara",
    "Dario",
    "Elif",
    "Femke",
    "Goran",
    "Hanna",
    "Ines",
    "Jonas",
    "Kaja",
    "Luca",
    "Mira",
    "Niko",
    "Olga",
    "Pavel",
    "Rosa",
    "Stefan",
    "Tereza",
    "Yusuf",
)
LAST_NAMES = (
    "Almeida",
    "Berger",
    "Costa",
    "Dvorak",
    "Eriksen",
    "Fontaine",
    "Grabowski",
    "Horvath",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nowak",
    "Oliveira",
    "Popescu",
)
# (alpha-3 issuing state, weight); the marketplace is EU-centred.
COUNTRIES = (
    ("DEU", 30),
    ("ESP", 14),
    ("ITA", 12),
    ("FRA", 12),
    ("POL", 8),
    ("NLD", 6),
    ("PRT", 5),
    ("SWE", 4),
    ("ROU", 4),
    ("UKR", 3),
    ("GBR", 2),
)
DOCUMENT_TYPES = ("Identity Card", "Passport", "Driver's License", "Residence Permit")
COMPANY_WORDS = ("Nordic", "Alpine", "Iberia", "Baltic", "Danube", "Atlas", "Helix", "Vela")
COMPANY_KINDS = ("Trading GmbH", "Logistics S.L.", "Handel B.V.", "Commerce S.r.l.", "Tech AB")
KYB_COUNTRIES = ("DE", "ES", "NL", "IT", "SE", "FR")
