"""`pcnkit report` end to end on the packs' demo workspace: files written in each format, the
same inputs giving the same bytes, and bad input refused with a clear message and no file."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pypdf
import pytest
from docx import Document as WordDocument
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "packs"
EPOCH = {"SOURCE_DATE_EPOCH": "1796203800"}  # 2026-12-02 09:30 UTC


def _run(pack_demo, *args: str, env: dict | None = None):
    return runner.invoke(app, ["report", *args, "-w", str(pack_demo.folder)], env=env)


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_packs_lists_every_pack_and_its_sections():
    result = runner.invoke(app, ["report", "packs"])
    assert result.exit_code == 0, result.output
    for words in ("assurance-update", "funding-paper", "pcn-pack", "watchlist", "schedule"):
        assert words in result.output


def test_assurance_update_as_pdf_and_word(pack_demo, tmp_path):
    result = _run(
        pack_demo, "assurance-update", "BHR", "--as-of", "2026-03-01",
        "--sections", "structure,assurance", "-f", "pdf", "-f", "docx", "-o", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "assurance-update_BHR_2026-03-01.pdf"
    docx = tmp_path / "assurance-update_BHR_2026-03-01.docx"
    assert pdf.is_file() and docx.is_file(), sorted(p.name for p in tmp_path.iterdir())
    text = _pdf_text(pdf.read_bytes())
    assert "Primary care assurance update" in text and "(BHR)" in text
    assert "1 March 2026" in text
    # the demo pack's cover and its first chart as pictures (test-artifacts/packs)
    pages = pypdf.PdfReader(str(pdf)).pages
    chart = next(i for i, p in enumerate(pages, start=1) if "Figure 1:" in p.extract_text())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page, name in ((1, "cover"), (chart, "chart")):
        out = ARTIFACTS / f"demo-assurance-update-BHR-{name}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", str(page), "-l", str(page),
             str(pdf), str(out)],
            check=True,
        )  # fmt: skip
        assert out.with_suffix(".png").stat().st_size > 10_000
    word = WordDocument(str(docx))
    body = "\n".join(p.text for p in word.paragraphs)
    assert "Primary care assurance update" in body and "(BHR)" in body


def test_the_same_inputs_give_the_same_file(pack_demo, tmp_path):
    files = []
    for n in (1, 2):
        target = tmp_path / f"run{n}.pdf"
        result = _run(
            pack_demo, "pcn-pack", "U00367", "--as-of", "2020-01-01", "--sections",
            "members,funding", "-o", str(target), env=EPOCH,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        files.append(target.read_bytes())
    assert files[0] == files[1]
    assert "2 December 2026 at 09:30" in _pdf_text(files[0])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("assurance-update", "NOPE1", "--as-of", "2026-03-01"), "no organisation 'NOPE1'"),
        (("assurance-update", "BHR", "--as-of", "1990-01-01"), "before the registry's data"),
        (("funding-paper", "BHR", "--as-of", "2020-01-01", "--year", "2031/32"),
         "no funding rules for 2031/32"),
        (("assurance-update", "BHR", "--as-of", "2026-03-01", "--sections", "gossip"),
         "no section 'gossip'"),
        (("pcn-pack", "PL-HAV", "--as-of", "2020-01-01"), "written for a PCN"),
        (("assurance-update", "BHR", "--as-of", "2026-03-01", "--previous", "2026-06-01"),
         "must be before"),
        (("assurance-update", "BHR", "--as-of", "2026-03-01", "-f", "odt"), "choose docx"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_writes_no_file(pack_demo, tmp_path, args, words):
    result = _run(pack_demo, *args, "-o", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split()), result.output
    assert list(tmp_path.iterdir()) == []


def test_one_file_for_two_formats_is_refused(pack_demo, tmp_path):
    target = tmp_path / "pack.pdf"
    result = _run(
        pack_demo, "pcn-pack", "U00367", "--as-of", "2020-01-01", "-f", "pdf", "-f", "docx",
        "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 2 and "one file" in result.output
    assert not target.exists()


def test_an_existing_file_without_a_suffix_is_not_a_folder(pack_demo, tmp_path):
    taken = tmp_path / "existing"
    taken.write_bytes(b"keep")
    result = _run(pack_demo, "pcn-pack", "U00367", "--as-of", "2020-01-01", "-o", str(taken))
    assert result.exit_code == 2 and "is not a folder" in result.output
    assert taken.read_bytes() == b"keep"


def test_the_format_comes_from_the_output_file(pack_demo, tmp_path):
    target = tmp_path / "members.docx"
    result = _run(
        pack_demo, "pcn-pack", "U00367", "--as-of", "2020-01-01", "--sections", "members",
        "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert WordDocument(str(target)).paragraphs


def test_a_published_paper_sets_its_own_year_and_names_the_file(pack_demo, tmp_path):
    """The Havering paper's inputs are for 2019/20: asked without a year they give it, with
    another year a clear refusal; the file is told apart from the registry-based paper."""
    wrong = _run(
        pack_demo, "funding-paper", "PL-HAV", "--as-of", "2020-01-01", "--year", "2025/26",
        "--published", "havering-2019-20", "-o", str(tmp_path),
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert "is a 2019/20 paper" in " ".join(wrong.output.split())
    assert list(tmp_path.iterdir()) == []
    result = _run(
        pack_demo, "funding-paper", "PL-HAV", "--as-of", "2020-01-01", "--sections", "table",
        "--published", "havering-2019-20", "-o", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (made,) = tmp_path.iterdir()
    assert made.name == "funding-paper_PL-HAV_2020-01-01_as-published.pdf"
    text = _pdf_text(made.read_bytes())
    assert "Primary Care Network Development in Havering (July 2019)" in text
    assert "havering-paper-2019-20" not in text  # the paper by its title, not its files


def test_a_previous_date_before_the_data_is_refused(pack_demo, tmp_path):
    result = _run(
        pack_demo, "assurance-update", "BHR", "--as-of", "2026-03-01", "--previous",
        "0001-01-01", "-o", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 2 and "before the registry's data" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_illustrative_roster_is_said_on_the_cover(pack_demo, tmp_path):
    target = tmp_path / "pack.html"
    result = _run(
        pack_demo, "pcn-pack", "U00367", "--as-of", "2020-01-01", "--sections", "funding",
        "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    cover = html[: html.index("</section>")]
    assert "ILLUSTRATIVE" in cover and "not real staff" in cover
