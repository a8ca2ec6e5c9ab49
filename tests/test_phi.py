"""PHI screening: identifier column names (compounds, case) and free-text redaction in Polars.

Every expected value below is written by hand: the redacted text, the per-row `_redacted` count
and which names are patient identifiers.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors import phi
from connectors.base import BAD, LOCATION, REASON, REDACTED, REDACTED_BAD
from pilotwatch.config import ConfigError, load_config

# --- column names -----------------------------------------------------------------------------

IDENTIFIER_NAMES = [
    # written without separators, in any case (issue 7, class 3)
    "PATIENTID", "patientid", "PatientId", "emailaddress", "EMAILADDRESS", "phonenumber",
    "PHONENUMBER", "patientname", "memberid", "MEMBERID", "subscriberid", "dateofbirth",
    "DATEOFBIRTH", "medicalrecordnumber", "MEDICALRECORDNUMBER", "socialsecuritynumber",
    "zipcode", "ZIPCODE", "firstname", "LASTNAME", "birthdate", "ipaddress",
    # with prefixes, suffixes and digits
    "PATIENTID_HASH", "patientid_sha256", "ptMRN", "PTMRN", "pt_mrn", "outpatientid",
    "patient_id2", "mrn1", "home_phonenumber", "x_dateofbirth_raw", "PatientEmailAddress",
    # already caught with separators (kept working)
    "mrn", "PatientName", "patient.mrn", "Patient MRN", "member_name", "pt_dob", "ssn",
    "date_of_birth", "email", "first_name", "zip", "postal_code",
]  # fmt: skip

NOT_IDENTIFIERS = [
    # the canonical columns and common telemetry names
    "timestamp", "initiative", "service", "operation", "duration_ms", "status_code",
    "deploy_id", "incident_id", "title", "owner", "evidence_ref", "control_id",
    "collected_at", "kpi", "numerator", "version", "environment", "opened_at",
    "patient_impact", "justification", "denominator", "acknowledged_at", "bucket_start",
    "http.route", "service.name", "trace_id", "span_id", "request_id", "latency_ms",
    # words that contain an identifying word but are not one
    "script_name", "video_id", "usage", "remembered_at", "hostname", "filename", "pageno",
    # staff and machines are allowed (docs/connectors.md, PHI policy)
    "owner_email", "OWNEREMAIL", "ownerEmail", "assignee_name", "server.address",
]  # fmt: skip


@pytest.mark.parametrize("name", IDENTIFIER_NAMES)
def test_identifier_names_are_caught(name: str) -> None:
    assert phi.looks_like_patient_identifier(name)


@pytest.mark.parametrize("name", NOT_IDENTIFIERS)
def test_ordinary_names_pass(name: str) -> None:
    assert not phi.looks_like_patient_identifier(name)


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("PatientMRN", "patient_mrn"),
        ("PATIENTMRN", "patient_mrn"),
        ("PATIENTID_HASH", "patient_id_hash"),
        ("medicalrecordnumber", "medical_record_number"),
        ("emailAddress2", "email_address_2"),
        ("outpatientid", "out_patient_id"),
        ("duration_ms", "duration_ms"),
        ("initiative", "initiative"),  # unknown words stay whole
    ],
)
def test_normalize_splits_case_separators_digits_and_compounds(name: str, normal: str) -> None:
    assert phi.normalize(name) == normal


def test_a_compound_identifier_column_is_dropped_with_a_warning() -> None:
    frame = pl.LazyFrame({"incident_id": ["i1"], "PATIENTID": ["p-9"], "emailaddress": ["a@b.c"]})
    kept, warnings = phi.drop_patient_columns(frame, "x.csv")
    assert kept.collect_schema().names() == ["incident_id"]
    assert warnings == [
        "dropped column 'PATIENTID' (looks like a patient identifier; never loaded) from x.csv",
        "dropped column 'emailaddress' (looks like a patient identifier; never loaded) from x.csv",
    ]


# --- free text --------------------------------------------------------------------------------

R = "[redacted]"
POSITIVES = [
    # (text, redacted text)
    ("paged jane.doe@example.org twice", f"paged {R} twice"),
    ("mailto:J.Doe+er@mail.hospital.example.com", f"mailto:{R}"),
    ("SSN 123-45-6789 in log", f"{R} in log"),
    ("leaked 123-45-6789", f"leaked {R}"),
    ("leaked 123 45 6789.", f"leaked {R}."),
    ("ssn: 123456789", R),  # 9 bare digits only with a label
    ("SSN123-45-6789", R),
    ("call (555) 123-4567", f"call {R}"),
    ("call 555-123-4567 now", f"call {R} now"),
    ("call +1 555 123 4567", f"call {R}"),
    ("call 555.123.4567", f"call {R}"),
    ("call 1-555-123-4567", f"call {R}"),
    ("MRN 1234567 missing", f"{R} missing"),
    ("MRN: A12345", R),
    ("medical record number 12345", R),
    ("wrong MR# 1234", f"wrong {R}"),
    ("mrn#998877", R),
    ("Mrn is 445566", R),
    ("DOB 1980-02-03", R),
    ("date of birth: 02/03/1980", R),
    ("born 3/2/1980", R),
    ("DOB: Mar 3, 1980", R),
    ("born on 3 March 1980 ok", f"{R} ok"),
    ("patient id 88231 seen", f"{R} seen"),
    ("pt #4521", R),
]
NEGATIVES = [
    "E11.9 I10 J45.909 Z79.4",
    "1.2.3",
    "v2.10.0-rc.1",
    "release 2026.11.3",
    "d-20261116-0042",
    "deploy-123456789",
    "2026-11-16",
    "2026-11-16T12:00:00Z",
    "deployed 2026-11-16 12:00 UTC",
    "16/11/2026",
    "INC0012345",
    "JIRA-4521",
    "CHG-000123",
    "ticket 123456789",
    "counter 1234567890",
    "build 20261116.3",
    "https://wiki.example.org/runbooks/sepsis-ews#rollback",
    "s3://evidence/2026/Q4/audit-log.pdf",
    "docs/evidence/ctrl-164.312(b).pdf",
    "99.95% availability",
    "p95 300ms",
    "latency 1200 ms over 5 min",
    "Mr Nolan reviewed",
    "patient impact: none",
    "IP 10.0.12.7",
]


@pytest.mark.parametrize(("text", "redacted"), POSITIVES)
def test_free_text_phi_is_redacted_and_counted(text: str, redacted: str) -> None:
    out = pl.select(phi.redact(pl.lit(text)).alias("r"), phi.count(pl.lit(text)).alias("n")).row(0)
    assert out == (redacted, 1)


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_operational_text_is_left_alone(text: str) -> None:
    out = pl.select(phi.redact(pl.lit(text)).alias("r"), phi.count(pl.lit(text)).alias("n"))
    assert out.row(0) == (text, 0)


def test_several_matches_in_one_value_are_each_counted() -> None:
    text = "jane@x.org called 555-123-4567 re SSN 123-45-6789, DOB 1980-02-03"
    frame = pl.DataFrame({"t": [text, None, ""]})
    out = frame.select(phi.redact(pl.col("t")), phi.count(pl.col("t")).alias("n"))
    assert out["t"].to_list() == [f"{R} called {R} re {R}, {R}", None, ""]
    assert out["n"].to_list() == [4, 0, 0]
    assert out["n"].dtype == pl.UInt32


# --- screen_frame -----------------------------------------------------------------------------


def _incidents() -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "incident_id": ["i1", "i2", "i3"],
            "title": ["Pager to jane@x.org failed", "Queue stalled", None],
            REASON: [None, None, "severity: not an integer 'SSN 123-45-6789'"],
            # a good row's location is never shown, so it is not screened (the mask at work)
            LOCATION: ["inc.csv:2 123-45-6789", "inc.csv:3", "inc.csv:4 call 555-123-4567"],
            BAD: [False, False, True],
        }
    )


def test_screen_frame_redacts_free_text_and_bad_rows_reason_and_location() -> None:
    out = phi.screen_frame(_incidents(), "incidents")
    assert isinstance(out, pl.LazyFrame)
    expected = pl.DataFrame(
        {
            "incident_id": ["i1", "i2", "i3"],
            "title": [f"Pager to {R} failed", "Queue stalled", None],
            REASON: [None, None, f"severity: not an integer '{R}'"],
            LOCATION: ["inc.csv:2 123-45-6789", "inc.csv:3", f"inc.csv:4 call {R}"],
            BAD: [False, False, True],
            REDACTED: pl.Series([1, 0, 0], dtype=pl.UInt32),
            REDACTED_BAD: pl.Series([0, 0, 2], dtype=pl.UInt32),
        }
    )
    assert_frame_equal(out.collect(), expected)


def test_screen_frame_is_one_lazy_plan_without_python() -> None:
    plan = phi.screen_frame(_incidents(), "incidents").explain()
    assert "python" not in plan.lower() and "map" not in plan.lower()
    assert "when" in plan.lower()  # reason and location are masked by the bad flag


def test_a_frame_without_the_bad_flag_derives_it_from_the_reason() -> None:
    out = phi.screen_frame(_incidents().drop(BAD), "incidents").collect()
    assert out[LOCATION].to_list()[0] == "inc.csv:2 123-45-6789"
    assert out[REDACTED].to_list() == [1, 0, 0]
    assert out[REDACTED_BAD].to_list() == [0, 0, 2]


def test_requests_have_no_free_text_but_bad_rows_are_screened() -> None:
    frame = pl.LazyFrame(
        {
            "service": ["a@b.org-svc", "api"],  # an id-like column: not free text
            REASON: [None, "duration_ms: not a number 'DOB 1980-02-03'"],
            LOCATION: ["r.csv:2", "r.csv:3"],
            BAD: [False, True],
        }
    )
    out = phi.screen_frame(frame, "requests").collect()
    assert out["service"].to_list() == ["a@b.org-svc", "api"]
    assert out[REASON].to_list() == [None, f"duration_ms: not a number '{R}'"]
    assert out[REDACTED].to_list() == [0, 0]
    assert out[REDACTED_BAD].to_list() == [0, 1]


def test_evidence_owner_keeps_a_staff_email_but_not_other_phi() -> None:
    frame = pl.LazyFrame(
        {
            "owner": ["ana.ruiz@hospital.example", "Ana, 555-123-4567"],
            "evidence_ref": ["https://wiki/ev/1", "MRN: A12345 export.pdf"],
            "justification": ["", "vendor says born 3/2/1980 record"],
            REASON: [None, None],
            LOCATION: ["e.csv:2", "e.csv:3"],
            BAD: [False, False],
        }
    )
    out = phi.screen_frame(frame, "evidence").collect()
    assert out["owner"].to_list() == ["ana.ruiz@hospital.example", f"Ana, {R}"]
    assert out["evidence_ref"].to_list() == ["https://wiki/ev/1", f"{R} export.pdf"]
    assert out["justification"].to_list() == ["", f"vendor says {R} record"]
    assert out[REDACTED].to_list() == [0, 3]


def test_free_text_columns_cover_every_table_that_has_them() -> None:
    assert phi.FREE_TEXT == {
        "incidents": ("title",),
        "evidence": ("justification", "evidence_ref", "owner"),
    }


# --- configured patterns ----------------------------------------------------------------------


def test_extra_patterns_add_to_the_defaults_which_always_apply() -> None:
    frame = pl.LazyFrame(
        {
            "title": ["badge EMP-004211 and jane@x.org", "EMP-12"],
            REASON: [None, None],
            LOCATION: ["a", "b"],
            BAD: [False, False],
        }
    )
    extra = [("employee_badge", r"\bEMP-\d{6}\b")]
    out = phi.screen_frame(frame, "incidents", extra).collect()
    assert out["title"].to_list() == [f"badge {R} and {R}", "EMP-12"]
    assert out[REDACTED].to_list() == [2, 0]
    # without the extra pattern the badge stays, the e-mail still goes
    plain = phi.screen_frame(frame, "incidents").collect()
    assert plain["title"].to_list()[0] == f"badge EMP-004211 and {R}"


def test_a_case_insensitive_flag_in_one_pattern_does_not_leak_into_the_others() -> None:
    extra = [("ward", r"(?i)ward\s+\d+"), ("code", r"ZX\d{3}")]
    out = pl.select(phi.redact(pl.lit("WARD 7 zx123 ZX123"), phi.patterns_for("", "", extra)))
    assert out.item() == f"{R} zx123 {R}"


def _settings(tmp_path: Path, body: str) -> Path:
    (tmp_path / "settings.yaml").write_text("settings:\n  phi_patterns:\n" + body)
    return tmp_path


def test_configured_patterns_load_into_settings(tmp_path: Path) -> None:
    config = load_config(
        _settings(tmp_path, '    - {name: employee-badge, regex: "EMP-\\\\d{6}"}\n'), env={}
    )
    (pattern,) = config.settings.phi_patterns
    assert (pattern.name, pattern.regex) == ("employee-badge", r"EMP-\d{6}")


def test_bad_configured_patterns_are_located_errors(tmp_path: Path) -> None:
    body = (
        "    - name: lookbehind\n"  # line 3
        '      regex: "(?<=MRN)\\\\d+"\n'  # line 4: no look-around in Polars' engine
        "    - {name: empty, regex: 'x*'}\n"  # line 5: matches the empty string
        "    - {name: email, regex: 'x'}\n"  # line 6: a default's name
        "    - {name: open, regex: '(ab'}\n"  # line 7: does not compile
    )
    with pytest.raises(ConfigError) as caught:
        load_config(_settings(tmp_path, body), env={})
    found = [(i.line, i.path, i.message) for i in caught.value.issues]
    assert [(line, path) for line, path, _ in found] == [
        (4, "settings.phi_patterns[0].regex"),
        (5, "settings.phi_patterns[1].regex"),
        (6, "settings.phi_patterns[2].name"),
        (7, "settings.phi_patterns[3].regex"),
    ]
    messages = [m for _, _, m in found]
    assert "look-around" in messages[0] and "Polars" in messages[0]
    assert "empty string" in messages[1]
    assert "default pattern" in messages[2]
    assert "unclosed group" in messages[3]


def test_every_default_pattern_compiles_and_has_a_unique_name() -> None:
    assert [phi.regex_problem(p.regex) for p in phi.DEFAULT] == [None] * len(phi.DEFAULT)
    names = [p.name for p in phi.DEFAULT]
    assert len(set(names)) == len(names)
