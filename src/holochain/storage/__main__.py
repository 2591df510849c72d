"""``python -m holochain.storage FD``: the SQLite writer process (:mod:`.writer_process`).

The writer is started through the package rather than as ``-m
holochain.storage.writer_process``: the package imports that module itself,
and running an already-imported module as ``__main__`` would load it twice.
"""

from .writer_process import main

raise SystemExit(main())
