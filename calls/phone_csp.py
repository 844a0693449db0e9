"""What the phone page adds to the portal's Content-Security-Policy, for django-csp's
`@csp_update(PHONE_CSP_UPDATE)` on its view: the ACS Calling SDK runs its media pipeline in Web
Workers made from blob: URLs, and talks to Microsoft's configuration, signalling (trouter, over
WebSockets), policy and telemetry services. Media itself (WebRTC, TURN) is not governed by CSP.

tests/e2e/test_phone.py loads the real SDK under this policy and fails on any CSP violation.
"""

MICROSOFT_CALLING_HOSTS = [
    "*.communication.microsoft.com",
    "*.teams.microsoft.com",
    "*.microsoft.com",
    "*.skype.com",
    "*.azure.com",
    "*.azure.net",
    "*.office.com",
]

PHONE_CSP_UPDATE = {
    "connect-src": [f"https://{host}" for host in MICROSOFT_CALLING_HOSTS]
    + [f"wss://{host}" for host in MICROSOFT_CALLING_HOSTS],
    "worker-src": ["'self'", "blob:"],
}
