"""Who may do what: users, API keys, OpenID Connect tokens, sessions, roles and the policy.

``policy`` is the one table of which role may do which action; ``authenticator`` turns the
credentials of a request into a ``Principal``; the API enforces both with a dependency per route.
"""
