"""The vault: device passwords encrypted at rest, envelope-style.

- ``crypto``: AES-256-GCM sealing and key wrapping (pure, bytes in, bytes out);
- ``keyring``: the master keys an operator keeps (a file or an environment variable), and rotation.

Layers: a master key (never in the database) wraps a data key per organisation (stored wrapped);
the data key seals each secret value, with the value's identity as associated data, so a sealed
value copied onto another row does not open.
"""
