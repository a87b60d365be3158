"""The record form as PDF through LibreOffice (a process per conversion): the form's own words and
the user's text, hostile text included, come out as text in the PDF (read back with poppler's
``pdftotext``), one PDF beside each Word file in a batch export."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest

from portal import accounts, record_form
from tests.core.test_record_form import HOSTILE, hostile_activity


@pytest.mark.skipif(record_form.soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_pdf_through_libreoffice(demo_db, tmp_path):
    saved = hostile_activity(demo_db)
    pdf = record_form.record_form_pdf(demo_db, saved.id)
    assert pdf.startswith(b"%PDF")
    (tmp_path / "form.pdf").write_bytes(pdf)
    text = subprocess.run(
        [_pdftotext(), "-layout", str(tmp_path / "form.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    assert "领导干部联系师生工作记录表" in flat and saved.cadre_name in flat
    assert "2026年11月20日" in flat
    for value in (HOSTILE["place"], HOSTILE["counterpart_text"], "希望 <b>加粗</b> & 改进"):
        # as typed, no markup vanished or took effect (a cell may wrap a value's words apart)
        assert all(word in flat for word in value.split()), value


@pytest.mark.skipif(record_form.soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_batch_export_adds_pdfs_when_libreoffice_is_installed(demo_db):
    admin = accounts.find_user(demo_db, "admin")
    result = record_form.export_forms(
        demo_db, admin, None, system="联系党外代表人士", period="2026", pdf=True
    )
    names = zipfile.ZipFile(io.BytesIO(result.data)).namelist()
    assert result.pdf == result.count > 0
    assert sorted(n[:-4] for n in names if n.endswith(".pdf")) == sorted(
        n[:-5] for n in names if n.endswith(".docx")
    )


def _pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    return found
