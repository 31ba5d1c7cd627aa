"""Identity and access: users, roles, bindings, login records, tokens."""
