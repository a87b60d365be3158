"""Chinese for the English that Streamlit's frontend hard-codes.

Streamlit has no locale setting: the file uploader says "Drag and drop files here", "Upload" and
"5MB per file", an empty table says "empty", a selectbox "Choose an option", a multiselect's first
row "Select all", a text box "Press Enter to apply", and a mistyped URL "Page not found … Running the
app's main page". The server
(portal/server.py) serves the few frontend files that hold those strings with the strings
translated, through its own routes in front of Streamlit's static files; nothing else changes.

Each replacement names the file it belongs to and must match there. ``check()`` lists the ones that
no longer match the installed Streamlit (tests/core/test_frontend_zh.py fails on any, so an upgrade that
moves a string is noticed, and the file is then served as Streamlit ships it).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path


def _package_dir(name: str) -> Path:
    """Where an installed package lies, found without importing it: the core stays UI-free."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed")
    return Path(spec.submodule_search_locations[0])


JS_DIR = _package_dir("streamlit") / "static" / "static" / "js"


@dataclass(frozen=True)
class Replacement:
    file: str  # the chunk's name before its content hash: FileUploader → FileUploader.D7YhAWeM.js
    pattern: str  # a regular expression over the minified source
    chinese: str  # the replacement (``\\1`` keeps a group)


REPLACEMENTS = [
    Replacement("FileUploader", r"`Drag and drop files here`", "`将文件拖放到此处，或点击“选择文件”`"),
    Replacement("FileUploader", r"`Drag and drop a file here`", "`将文件拖放到此处，或点击“选择文件”`"),
    Replacement("FileUploader", r"`Drag and drop directories here`", "`将文件夹拖放到此处`"),
    Replacement("FileUploader", r"`Upload directories`", "`选择文件夹`"),
    Replacement("FileUploader", r"`Upload`", "`选择文件`"),
    Replacement("FileUploader", r"`\$\{([^`{}]+)\} per file`", "`每个文件不超过 ${\\1}`"),
    Replacement("DataFrame", r"displayData:`empty`", "displayData:`（无数据）`"),
    Replacement("Table", r"children:`empty`", "children:`（无数据）`"),
    Replacement("utils", r"`Choose an option`", "`请选择`"),
    Replacement("utils", r"`Choose options`", "`请选择（可多选）`"),
    Replacement("utils", r"`Choose or add an option`", "`请选择或输入`"),
    Replacement("utils", r"`Choose or add options`", "`请选择或输入（可多选）`"),
    Replacement("utils", r"`No options to select`", "`没有可选项`"),
    Replacement("Radio", r"`No options to select\.`", "`没有可选项。`"),
    Replacement("Selectbox", r"children:`No results`", "children:`没有匹配的选项`"),
    Replacement("Multiselect", r"return`No results`", "return`没有匹配的选项`"),
    Replacement("Multiselect", r"label:`Select all`", "label:`全选`"),
    Replacement("Multiselect", r"label:`Select \$\{([^`{}]+)\} matches`", "label:`选择全部 ${\\1} 个匹配项`"),
    Replacement("Multiselect", r"label:`Add: \$\{([^`{}]+)\}`", "label:`添加：${\\1}`"),
    Replacement("DataFrame", r"label:`Select all`", "label:`全选`"),
    Replacement("Selectbox", r"label:`Add: \$\{([^`{}]+)\}`", "label:`添加：${\\1}`"),
    Replacement("InputInstructions", r"a\?`submit form`:`apply`", "a?`提交`:`确认`"),
    Replacement("InputInstructions", r"`Press \$\{(\w+\(\)\?`⌘`:`Ctrl`)\}\+Enter to \$\{e\}`", "`按 ${\\1}+回车键${e}`"),
    Replacement("InputInstructions", r"`Press Enter to \$\{e\}`", "`按回车键${e}`"),
    Replacement("index", r"`View less`", "`收起`"),
    Replacement("index", r"`View \$\{([^`{}]+)\} more`", "`展开其余 ${\\1} 项`"),
    Replacement("index", r"showError\(`Page not found`,\{message:`\$\{t\}\. Running the app's main page\.`\}\)",
                "showError(`页面不存在`,{message:`您打开的链接不存在或已失效，已为您打开首页。`})"),
]  # fmt: skip


def _chunk(name: str) -> Path | None:
    """The installed chunk ``name.<hash>.js`` (the largest if several share the name)."""
    found = sorted(JS_DIR.glob(f"{name}.*.js"), key=lambda p: p.stat().st_size, reverse=True)
    found = [p for p in found if re.fullmatch(rf"{re.escape(name)}\.[\w-]+\.js", p.name)]
    return found[0] if found else None


def patched() -> dict[str, bytes]:
    """File name → translated source, for the chunks whose every replacement matched."""
    out: dict[str, bytes] = {}
    for name in dict.fromkeys(r.file for r in REPLACEMENTS):
        path = _chunk(name)
        if path is None:
            continue
        source = path.read_text(encoding="utf-8")
        for r in (r for r in REPLACEMENTS if r.file == name):
            source, count = re.subn(r.pattern, r.chinese, source)
            if not count:
                break
        else:
            out[path.name] = source.encode("utf-8")
    return out


def check() -> list[str]:
    """The replacements that do not match the installed Streamlit (empty when all is well)."""
    missing = []
    for r in REPLACEMENTS:
        path = _chunk(r.file)
        if path is None or not re.search(r.pattern, path.read_text(encoding="utf-8")):
            missing.append(f"{r.file}: {r.pattern}")
    return missing
