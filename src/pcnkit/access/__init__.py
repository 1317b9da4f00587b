"""Who may see what: users with a role and a scope, sign-in with lock-out, and the audit log."""
