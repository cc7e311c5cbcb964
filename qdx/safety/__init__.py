"""Safe-by-construction primitives for untrusted input and for writing output.

* XML: no DTD, no entities, no network (REFI-QDA never needs a DOCTYPE, so one is refused).
* ZIP: member names never become filesystem paths here; names that would escape a folder
  (``../``, absolute, drive letters, backslashes) are refused; members are read with a hard
  size cap while inflating, so a forged header cannot get past the limit.
* Output: :func:`atomic_write` writes a temporary file in the target folder and renames it
  only when complete, so a failure leaves the previous file intact and no stray file.

The names live in the modules of this package, one per concern, and are re-exported here:

* :mod:`~qdx.safety.inputs`: :class:`Limits`, opening and reading inputs, the XML parser and
  DOCTYPE checks, zip member names;
* :mod:`~qdx.safety.archive`: :class:`SafeZip` and its :class:`MemberStream`;
* :mod:`~qdx.safety.output`: the output-path policy, :func:`atomic_write`, backups;
* :mod:`~qdx.safety.folder`: :func:`atomic_folder`;
* :mod:`~qdx.safety.temps`: temporary files, signals and the removal of stale temporaries.

A test that replaces one of these names replaces it in the module that uses it (the name
here is only a second reference to the same object).
"""

from __future__ import annotations

from qdx.safety.archive import MemberStream, SafeZip
from qdx.safety.folder import atomic_folder
from qdx.safety.inputs import (
    DEFAULT_LIMITS,
    GIB,
    Limits,
    check_no_doctype,
    check_parsed_no_doctype,
    open_input,
    printable,
    read_capped,
    safe_member_name,
    xml_parser,
)
from qdx.safety.output import OutputPlan, atomic_write, backup_path, make_backup, output_plan
from qdx.safety.temps import STALE_AFTER, TMP_PREFIX, TMP_SUFFIX, cleanup_on_signals, remove_stale_temps

__all__ = [
    "DEFAULT_LIMITS",
    "GIB",
    "STALE_AFTER",
    "TMP_PREFIX",
    "TMP_SUFFIX",
    "Limits",
    "MemberStream",
    "OutputPlan",
    "SafeZip",
    "atomic_folder",
    "atomic_write",
    "backup_path",
    "check_no_doctype",
    "check_parsed_no_doctype",
    "cleanup_on_signals",
    "make_backup",
    "open_input",
    "output_plan",
    "printable",
    "read_capped",
    "remove_stale_temps",
    "safe_member_name",
    "xml_parser",
]
