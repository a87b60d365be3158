"""The official 《领导干部联系师生工作记录表》 of an activity: Word, a batch of them, PDF.

``render_record_form`` fills ``templates/record_form.docx`` with docxtpl, **autoescape on**,
so user text with ``< > & "`` and line breaks comes out exactly as typed.

Speed: a fresh ``DocxTemplate`` re-reads and re-writes the whole package for every form
(≈15 ms). ``FormRenderer`` does docxtpl's work once — reads the package, patches the body
XML and compiles the Jinja template — and per form only renders that template, applies
docxtpl's own post-processing (line breaks, table fix-up) and writes the zip with the
other parts' bytes as the fresh path writes them. ``bench/forms_bench.py`` checks that both
give identical content and prints both timings.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from docx.opc.oxml import serialize_part_xml
from docxtpl import DocxTemplate
from jinja2 import Environment
from markupsafe import Markup, escape
from sqlite_utils import Database

from . import activities, dates, org, text
from .accounts import User
from .activities import Activity
from .errors import NotFound, ValidationError
from .record_template import TEMPLATE_PATH

DOCUMENT_PART = "word/document.xml"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]')  # and control characters (text.control_character)


# --- the values printed on the form --------------------------------------------------------


def form_context(
    db: Database, activity: Activity, cadres: dict[int, org.Cadre | None] | None = None
) -> dict[str, str]:
    """The form's values for an activity: what is printed in each cell. ``cadres`` caches the
    cadres' posts across a batch."""
    cadres = {} if cadres is None else cadres
    if activity.cadre_id not in cadres:
        try:
            cadres[activity.cadre_id] = org.get_cadre(db, activity.cadre_id)
        except NotFound:  # a person without posts any more still gets a form
            cadres[activity.cadre_id] = None
    cadre = cadres[activity.cadre_id]
    post = cadre.title_on(activity.date) if cadre else ""
    counterpart = activity.counterpart_text
    if activity.participants:
        counterpart = (
            f"{counterpart}\n参加人员：{activity.participants}"
            if counterpart
            else f"参加人员：{activity.participants}"
        )
    filled = activity.created_at[:10] if activity.created_at else ""
    return {
        "name": activity.cadre_name,
        "post": post,
        "date": dates.format_date(activity.date, weekday=False),
        "place": activity.place,
        "counterpart": counterpart,
        "content": activity.content,
        "opinions": activity.opinions_text,
        "followup": activity.followup,
        "recorder": activity.entered_by_name,
        "filled": dates.format_date(filled, weekday=False) if filled else "",
        "system": f"{activity.system}（{activity.subtype}）",
    }


# --- rendering -----------------------------------------------------------------------------


_DOCXTPL_ESCAPES = re.compile(r"\{_|_\}")


def literal_values(context: dict) -> dict:
    """Values that come out exactly as typed. After rendering, docxtpl turns the template
    author's escapes ``{_{ }_} {_% %_}`` into ``{{ }} {% %}`` — in the values too, so a user's
    ``{_{`` would print as ``{{``. Each value is escaped for XML here and the underscore of
    ``{_``/``_}`` written as the character reference ``&#95;``: the replacement no longer sees
    it, Word reads ``_``."""

    def literal(value: object) -> object:
        if not isinstance(value, str):
            return value
        escaped = str(escape(text.xml_safe(value)))
        return Markup(_DOCXTPL_ESCAPES.sub(lambda m: m.group().replace("_", "&#95;"), escaped))

    return {k: literal(v) for k, v in context.items()}


def render_fresh(context: dict, template: Path = TEMPLATE_PATH) -> bytes:
    """The straightforward way: a fresh DocxTemplate per form (the benchmark's baseline)."""
    tpl = DocxTemplate(template)
    tpl.render(literal_values(context), autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


class FormRenderer:
    """docxtpl's rendering with the package read and the Jinja template compiled once."""

    def __init__(self, template: Path = TEMPLATE_PATH):
        self._tpl = DocxTemplate(template)
        self._tpl.render_init()
        docx = self._tpl.docx
        src = self._tpl.patch_xml(self._tpl.get_xml())
        src = re.sub(r"<w:p([ >])", r"\n<w:p\1", src)  # as docxtpl's render_xml_part does
        self._jinja = Environment(autoescape=True).from_string(src)
        self._root = copy.deepcopy(docx._element)
        # the package as a fresh render saves it: every part but the body is context-free here
        blank = DocxTemplate(template)
        blank.render({}, autoescape=True)
        buf = io.BytesIO()
        blank.save(buf)
        with zipfile.ZipFile(buf) as z:
            self._parts = [(info.filename, info.date_time, z.read(info.filename)) for info in z.infolist()]
        self._lock = threading.Lock()

    def document_xml(self, context: dict) -> bytes:
        dst = self._jinja.render(literal_values(context))
        dst = re.sub(r"\n<w:p([ >])", r"<w:p\1", dst)
        dst = dst.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        dst = self._tpl.resolve_listing(dst)
        body = self._tpl.fix_tables(dst)
        with self._lock:  # one shared root, swapped body: cheaper than a copy per form
            self._root.replace(self._root.body, body)
            return serialize_part_xml(self._root)

    def render(self, context: dict, compresslevel: int = 1) -> bytes:
        """The form as a .docx. Level 1 (default): these parts are repetitive XML, fast and nearly
        as small; python-docx saves at zlib's default (6) — bench/forms_bench.py compares at that."""
        document = self.document_xml(context)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, when, data in self._parts:
                info = zipfile.ZipInfo(name, when)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, document if name == DOCUMENT_PART else data, compresslevel=compresslevel)
        return buf.getvalue()


_renderer: FormRenderer | None = None
_renderer_stamp: float | None = None
_renderer_lock = threading.Lock()


def renderer() -> FormRenderer:
    """The process's renderer, rebuilt when the template file changes."""
    global _renderer, _renderer_stamp
    stamp = TEMPLATE_PATH.stat().st_mtime
    with _renderer_lock:
        if _renderer is None or _renderer_stamp != stamp:
            _renderer, _renderer_stamp = FormRenderer(TEMPLATE_PATH), stamp
        return _renderer


def render_record_form(db: Database, activity_id: int, viewer: User | None = None) -> bytes:
    """The filled record form (.docx bytes) of one activity; with ``viewer``, scope is checked."""
    activity = (
        activities.get_activity(db, activity_id, viewer)
        if viewer
        else activities.load_activity(db, activity_id)
    )
    return renderer().render(form_context(db, activity))


def _file_safe(part: str) -> str:
    visible = "".join(ch for ch in part if text.control_character(ch) is None)
    return _UNSAFE_NAME.sub("", visible).strip()


def form_filename(activity: Activity, ext: str = "docx") -> str:
    """Named so a person can find it: date, name, system and subtype, and the record's number."""
    parts = [
        activity.date.isoformat(),
        activity.cadre_name,
        f"{activity.system}-{activity.subtype}",
        str(activity.id),
    ]
    name = "_".join(_file_safe(p) for p in parts)
    return f"{name}.{ext}"


# --- PDF through LibreOffice ---------------------------------------------------------------


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx_files: list[Path], out_dir: Path, timeout: int = 300) -> list[Path]:
    """Convert with LibreOffice, each run with its own profile (concurrent runs fail otherwise)."""
    binary = soffice()
    if binary is None:
        raise ValidationError("服务器未安装 LibreOffice，无法生成 PDF（Word 文件不受影响）")
    if not docx_files:
        return []
    profile = Path(tempfile.gettempdir()) / f"portal_lo_{os.getpid()}_{uuid.uuid4().hex}"
    try:
        subprocess.run(
            [
                binary,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                *map(str, docx_files),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise ValidationError(f"PDF 转换失败：{type(exc).__name__}") from None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return [out_dir / (f.stem + ".pdf") for f in docx_files if (out_dir / (f.stem + ".pdf")).exists()]


def record_form_pdf(db: Database, activity_id: int, viewer: User | None = None) -> bytes:
    activity = (
        activities.get_activity(db, activity_id, viewer)
        if viewer
        else activities.load_activity(db, activity_id)
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / form_filename(activity)
        source.write_bytes(renderer().render(form_context(db, activity)))
        (pdf,) = to_pdf([source], Path(tmp))
        return pdf.read_bytes()


# --- batch export --------------------------------------------------------------------------


@dataclass
class ExportResult:
    count: int
    target: Path | None = None  # the directory or zip written (None: bytes returned)
    files: list[str] = field(default_factory=list)
    pdf: int = 0
    data: bytes | None = None  # the zip when exported to memory


def too_many_forms(total: int, limit: int) -> str:
    return (
        f"符合条件的记录有 {total:,} 条，超过一次导出的上限 {limit:,} 条。"
        "请缩小筛选范围（日期、制度、领导干部或单位）后再导出；更大批量可由管理员用命令行 portal forms export 导出。"
    )


def select_activities(
    db: Database,
    viewer: User,
    *,
    cadre: str | int | None = None,
    unit_id: int | None = None,
    system: str | None = None,
    period: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[Activity]:
    """The activities a batch export covers: within the viewer's scope and the filters."""
    cadre_id = None
    if isinstance(cadre, str) and cadre.strip():
        person = org.person_by_staff_no(db, cadre)
        if person is None:
            raise ValidationError(f"工号“{cadre[:30]}”不存在")
        cadre_id = person.id
    elif isinstance(cadre, int):
        cadre_id = cadre
    if period:
        lo, hi = activities.period_range(db, period)
        since, until = max(since or lo, lo), min(until or hi, hi)
    return sorted(
        activities.list_activities(
            db, viewer, cadre_id=cadre_id, system=system or None, unit_id=unit_id, since=since, until=until
        ),
        key=lambda a: (a.date, a.cadre_staff_no, a.id),
    )


def _forms(db: Database, chosen: Iterable[Activity]) -> Iterable[tuple[Activity, bytes]]:
    r = renderer()
    cadres: dict[int, org.Cadre | None] = {}
    for activity in chosen:
        yield activity, r.render(form_context(db, activity, cadres))


def export_forms(
    db: Database,
    viewer: User,
    out: str | Path | None = None,
    *,
    cadre: str | int | None = None,
    unit_id: int | None = None,
    system: str | None = None,
    period: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    pdf: bool = False,
    progress: Callable[[int, int], None] | None = None,
    max_forms: int | None = None,
) -> ExportResult:
    """Write one form per activity: into a directory, a ``.zip`` file, or (``out`` None) zip bytes.

    ``progress(done, total)`` is called after each form. With ``pdf``, a PDF of each form is
    added when LibreOffice is installed.
    """
    chosen = select_activities(
        db, viewer, cadre=cadre, unit_id=unit_id, system=system, period=period, since=since, until=until
    )
    total = len(chosen)
    if max_forms is not None and total > max_forms:
        raise ValidationError(too_many_forms(total, max_forms))
    to_zip = out is None or str(out).lower().endswith(".zip")
    target = Path(out) if out is not None else None
    result = ExportResult(count=total, target=target)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) if to_zip else target
        assert work is not None
        work.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for done, (activity, data) in enumerate(_forms(db, chosen), start=1):
            path = work / form_filename(activity)
            path.write_bytes(data)
            written.append(path)
            if progress:
                progress(done, total)
        result.files = [p.name for p in written]
        pdfs: list[Path] = []
        if pdf and written:
            pdfs = to_pdf(written, work)
            result.pdf = len(pdfs)
        if to_zip:
            # straight into the target file (memory stays bounded however many forms); bytes only
            # when the caller asked for them
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
            sink: Path | io.BytesIO = target if target is not None else io.BytesIO()
            with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as z:  # .docx are zips already
                for path in [*written, *pdfs]:
                    z.write(path, path.name)
            if isinstance(sink, io.BytesIO):
                result.data = sink.getvalue()
    return result
