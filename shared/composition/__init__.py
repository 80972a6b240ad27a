"""The composition root: the one place that reads settings and builds services.

- `root`: the process's settings, storage clients and clock, read and built once, and the
  explicit test overrides (storage, clock, dispatcher, Graph transport, registry).
- `reads`: the read side (identity, membership, run reads, restore mapping). It imports
  nothing that reaches Graph, so the read routes provably cannot (import-linter).
- `services`: the full side (run service and worker, run types, notifications,
  retention), for writes, queue and timer triggers.
- `notifications`: the notification part of the full side.

This package's __init__ imports nothing, so importing `reads` never loads `services`.
"""
