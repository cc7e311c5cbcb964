"""Uses of qdx's public API as a type checker sees them (checked by tests/test_public_api.py).

Lines ending in ``# E: <code>`` are mistakes mypy --strict must report with that error code;
every other line must pass. Never run: it only has to type-check.
"""

from __future__ import annotations

import warnings

import pandas as pd

import qdx


def correct_uses(path: str) -> None:
    project: qdx.Project = qdx.read(path, limits=qdx.Limits(max_member_size=1 << 20))
    qdx.write(project, "out.qdpx", dialect="nvivo")
    fmt: qdx.Format = qdx.detect(b"PK\x03\x04", "x.qdpx")
    issues: list[qdx.Issue] = qdx.validate(project)
    checked: qdx.FileValidation = qdx.validate_file(path)
    model: qdx.Project | None = checked.project
    errors = [i for i in checked if i.severity is qdx.Severity.ERROR]
    segments: list[qdx.Segment] = qdx.segments(project, qdx.ProjectIndex(project))
    structure: qdx.StructureResult = qdx.check_structure(project, core="core")
    findings: list[qdx.Finding] = qdx.audit(project, project, labels=["a", "b"])
    changes: qdx.DiffResult = qdx.diff(project, project)
    first: qdx.Change = changes[0]
    merged: qdx.MergeResult = qdx.merge(project, project, policy="keep-both")
    conflicts: tuple[qdx.Conflict, ...] = merged.conflicts
    three: qdx.MergeResult = qdx.merge3(project, project, project, policy="ours", match="content")
    base_value: object = qdx.Conflict3("content", "codes", "g", None, 1, 2, 2, "ours", 0).base
    print(three.project, base_value)
    agreement: qdx.AgreementResult = qdx.agree(project, project, unit="sentence", overlap_measure="min_len")
    kappa: float = agreement.overall.kappa_pooled
    curve: qdx.SaturationResult = qdx.saturation(project)
    table: pd.DataFrame = qdx.matrix(project, rows="codes", cols="sources")
    pairs: pd.DataFrame = qdx.cooccurrence(project)
    tables: qdx.Frames = qdx.frames(project)
    corpus: qdx.DatasetResult = qdx.export_dataset(["studies/"], "corpus", workers=2)
    failed: int = corpus.count("failed") + len(corpus.failed)
    print(failed)
    warnings.simplefilter("error", qdx.QdxWarning)
    try:
        qdx.merge(project, project)
    except qdx.MergeConflictError as exc:
        conflicts = exc.conflicts
        print(conflicts)
    except (qdx.UnsafeInputError, qdx.FormatError, qdx.ReadError, qdx.WriteError, qdx.UsageError) as exc:
        message: str = exc.message
        print(message)
    except qdx.QdxError:
        pass
    assert issubclass(qdx.LossyConversionWarning, qdx.QdxWarning)
    print(fmt, issues, model, errors, segments, structure, findings, first, kappa, curve, table, pairs, tables)


def mistakes(project: qdx.Project) -> None:
    qdx.merge(1, 2, 3, 4)  # E: arg-type
    qdx.read(42)  # E: arg-type
    qdx.write(project, "out.qdpx", dialect="maxqda")  # E: arg-type
    qdx.diff(project)  # E: call-arg
    qdx.no_such_function(project)  # E: attr-defined
    count: int = qdx.agree(project, project)  # E: assignment
    print(count, qdx.validate_file("x.qdpx").project.sources)  # E: union-attr
    qdx.Limits(max_member_size="big")  # E: arg-type
    print(qdx.segments(project)[0].no_such_field)  # E: attr-defined
    qdx.agree(project, project, unit="word")  # E: arg-type
    qdx.agree(project, project, overlap_measure="jaccard")  # E: arg-type
    qdx.matrix(project, value="percent")  # E: arg-type
    qdx.cooccurrence(project, mode="sentence")  # E: arg-type
    qdx.diff(project, project, match="fuzzy")  # E: arg-type
    qdx.read("x.qdpx", unit="utf8")  # E: arg-type
    qdx.matrix(project, level="leaves")  # E: arg-type
    raise qdx.MergeConflictError("no conflicts given")  # E: arg-type
