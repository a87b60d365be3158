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


def _text(file: str, english: str, chinese: str, *, keys: str = "") -> Replacement:
    r"""A literal string of the minified source (a template literal: ``\`english\```), every
    occurrence; ``keys`` limits it to where it is a property's value (``label|"aria-label"``), for
    words common enough to be a key or a name elsewhere."""
    literal = re.escape(f"`{english}`")
    if keys:
        return Replacement(file, f"((?:{keys}):){literal}", f"\\1`{chinese}`")
    return Replacement(file, literal, f"`{chinese}`")


LABEL = 'label|"aria-label"|children|title'

REPLACEMENTS = [
    # the file uploader: its instructions, buttons and file sizes (206.0B → 206 字节)
    Replacement("FileUploader", r"`Drag and drop files here`", "`将文件拖放到此处，或点击“选择文件”`"),
    Replacement("FileUploader", r"`Drag and drop a file here`", "`将文件拖放到此处，或点击“选择文件”`"),
    Replacement("FileUploader", r"`Drag and drop directories here`", "`将文件夹拖放到此处`"),
    Replacement("FileUploader", r"`Upload directories`", "`选择文件夹`"),
    Replacement("FileUploader", r"`Upload`", "`选择文件`"),
    Replacement("FileUploader", r"`\$\{([^`{}]+)\} per file`", "`每个文件不超过 ${\\1}`"),
    _text("FileUploader", "Add files", "添加文件"),
    Replacement("utils", r"`\$\{e\.toFixed\(n\)\}\$\{t\.toUpperCase\(\)\}`",
                "(t===`b`?`${e.toFixed(0)} 字节`:`${e.toFixed(n)} ${t.toUpperCase()}`)"),
    _text("utils", "file upload", "上传文件"),
    _text("utils", "Upload failed", "上传失败"),
    Replacement("utils", r"`Cancel upload of \$\{e\.name\}`", "`取消上传 ${e.name}`"),
    Replacement("utils", r"`Remove \$\{e\.name\}`", "`移除 ${e.name}`"),
    _text("utils", "Click to retry upload", "点击重新上传"),
    # tables: empty, toolbar, search
    Replacement("DataFrame", r"displayData:`empty`", "displayData:`（无数据）`"),
    Replacement("Table", r"children:`empty`", "children:`（无数据）`"),
    _text("DataFrame", "Show/hide columns", "显示/隐藏列"),
    _text("DataFrame", "Search", "搜索", keys="label"),
    _text("DataFrame", "Download as CSV", "下载为 CSV"),
    _text("DataFrame", "Close Search", "关闭搜索"),
    _text("DataFrame", "Next Result", "下一个结果"),
    _text("DataFrame", "Previous Result", "上一个结果"),
    _text("DataFrame", "Dataframe column menu", "列菜单"),
    _text("DataFrame", "Copy column name", "复制列名"),
    _text("DataFrame", "Clear selection", "取消选择"),
    _text("DataFrame", "No data", "无数据"),
    # the toolbar of tables and charts; charts' own actions
    _text("Toolbar", "Fullscreen", "全屏", keys="label"),
    _text("Toolbar", "Close fullscreen", "退出全屏"),
    _text("ArrowVegaLiteChart", "Show data", "显示数据"),
    _text("ArrowVegaLiteChart", "Show chart", "显示图表"),
    _text("ArrowVegaLiteChart", "Download as PNG", "下载为 PNG 图片"),
    _text("ArrowVegaLiteChart", "Copy Vega-Lite spec", "复制图表定义"),
    _text("ArrowVegaLiteChart", "Copied!", "已复制"),
    # what Vega tells a screen reader about a chart as a whole (the portal's charts describe
    # themselves in Chinese and keep their parts quiet: pages/charts.py)
    Replacement("embed", r"`aria-roleDescription`,`visualization`", "`aria-roleDescription`,`图表`"),
    Replacement("embed", r"`\$\{t\} mark container`", "`图形`"),
    # choices: placeholders, empty lists, screen-reader labels; react-aria speaks its
    # announcements ("3 options available") in the locale it is given
    Replacement("utils", r"`Choose an option`", "`请选择`"),
    Replacement("utils", r"`Choose options`", "`请选择（可多选）`"),
    Replacement("utils", r"`Choose or add an option`", "`请选择或输入`"),
    Replacement("utils", r"`Choose or add options`", "`请选择或输入（可多选）`"),
    Replacement("utils", r"`No options to select`", "`没有可选项`"),
    Replacement("Radio", r"`No options to select\.`", "`没有可选项。`"),
    Replacement("Selectbox", r"children:`No results`", "children:`没有匹配的选项`"),
    _text("Selectbox", "Open", "展开选项", keys=LABEL),
    _text("Selectbox", "Clear value", "清除"),
    Replacement("Selectbox", r"locale:`en-US`", "locale:`zh-CN`"),
    Replacement("Multiselect", r"return`No results`", "return`没有匹配的选项`"),
    _text("Multiselect", "Open", "展开选项", keys=LABEL),
    _text("Multiselect", "Clear all", "全部清除"),
    _text("Multiselect", "Selected values", "已选项"),
    Replacement("Multiselect", r"`Remove \$\{e\}`", "`移除 ${e}`"),
    Replacement("Multiselect", r"`You can only select up to \$\{t\.maxSelections\} \$\{e\}\. Remove an option first\.`",
                "`最多只能选择 ${t.maxSelections} 项，请先移除一项。`"),
    Replacement("Multiselect", r"locale:`en-US`", "locale:`zh-CN`"),
    # dates: Chinese segments (年 月 日, no forced leading zero), labels and the calendar
    Replacement("DateInput", r"locale:`en-US`", "locale:`zh-CN`"),
    Replacement("DateInput", r"shouldForceLeadingZeros:!0", "shouldForceLeadingZeros:!1"),
    _text("DateInput", "Choose date", "选择日期"),
    _text("DateInput", "Choose date range", "选择日期范围"),
    _text("DateInput", "Clear date", "清除日期"),
    _text("DateInput", "Clear dates", "清除日期"),
    _text("DateInput", "Quick select a date range", "快速选择日期范围"),
    _text("DateInput", "Date range", "日期范围"),
    _text("DateInput", "Select...", "请选择…"),
    _text("ReorderedSegments", "Past Week", "最近一周"),
    _text("ReorderedSegments", "Past Month", "最近一个月"),
    _text("ReorderedSegments", "Past 3 Months", "最近三个月"),
    _text("ReorderedSegments", "Past 6 Months", "最近半年"),
    _text("ReorderedSegments", "Past Year", "最近一年"),
    _text("ReorderedSegments", "Past 2 Years", "最近两年"),
    _text("DateInput", "Use arrow keys to navigate dates. Enter to select. Escape to close.",
          "用方向键选择日期，回车键确定，Esc 键关闭。"),
    Replacement("DateInput", r"`\$\{ce\} start date`", "`${ce}（开始日期）`"),
    Replacement("DateInput", r"`\$\{ce\} end date`", "`${ce}（结束日期）`"),
    Replacement("ReorderedSegments", r"t<n\.length-1&&a\.push\(Yn\(r\)\)",
                "r===`/`&&n[0]===`Y`?a.push(Yn(`年月日`[`YMD`.indexOf(e)])):t<n.length-1&&a.push(Yn(r))"),
    _text("ReorderedSegments", "Previous month", "上个月"),
    _text("ReorderedSegments", "Next month", "下个月"),
    # numbers and text boxes
    _text("NumberInput", "Increment", "增加", keys=LABEL),
    _text("NumberInput", "Decrement", "减少", keys=LABEL),
    _text("NumberInput", "Clear value", "清除"),
    _text("TextInput", "Clear entry", "清除"),
    _text("TextInput", "Show password", "显示密码"),
    _text("TextInput", "Hide password", "隐藏密码"),
    Replacement("Multiselect", r"label:`Select all`", "label:`全选`"),
    Replacement("Multiselect", r"label:`Select \$\{([^`{}]+)\} matches`", "label:`选择全部 ${\\1} 个匹配项`"),
    Replacement("Multiselect", r"label:`Add: \$\{([^`{}]+)\}`", "label:`添加：${\\1}`"),
    Replacement("DataFrame", r"label:`Select all`", "label:`全选`"),
    Replacement("Selectbox", r"label:`Add: \$\{([^`{}]+)\}`", "label:`添加：${\\1}`"),
    Replacement("InputInstructions", r"a\?`submit form`:`apply`", "a?`提交`:`确认`"),
    Replacement("InputInstructions", r"`Press \$\{(\w+\(\)\?`⌘`:`Ctrl`)\}\+Enter to \$\{e\}`", "`按 ${\\1}+回车键${e}`"),
    Replacement("InputInstructions", r"`Press Enter to \$\{e\}`", "`按回车键${e}`"),
    # headings, the app's frame: skip link, sidebar, navigation, dialogs, tabs, errors
    _text("StreamlitMarkdown", "Link to heading", "链接到此标题"),
    # a help icon's name: "Help for 联系电话" → 联系电话的说明
    Replacement("StreamlitMarkdown", r"m\(t\)\?`Help`:`Help for \$\{t\.replaceAll\(/\\s\+/g,` `\)\}`",
                "m(t)?`说明`:`${t}的说明`"),
    Replacement("StreamlitMarkdown", r"ariaLabel:c=`Help`", "ariaLabel:c=`说明`"),
    _text("index", "Skip to main content", "跳到主要内容"),
    _text("index", "Sidebar", "侧边栏", keys=LABEL),
    _text("index", "Collapse sidebar", "收起侧边栏"),
    _text("index", "Expand sidebar", "展开侧边栏"),
    _text("index", "App pages", "页面导航"),
    # st.logo (the school's, PORTAL_SCHOOL_LOGO): its picture's alt and an icon logo's name
    _text("index", "Logo", "标志", keys="alt"),
    _text("index", "App Logo", "标志"),
    _text("index", "Close", "关闭", keys=LABEL),
    _text("index", "Main menu", "主菜单"),
    _text("index", "Notifications", "通知", keys=LABEL),
    _text("index", "Running...", "正在运行…"),
    _text("index", "Scroll tabs left", "向左滚动标签页"),
    _text("index", "Scroll tabs right", "向右滚动标签页"),
    _text("index", "Navigate to home page", "返回首页"),
    _text("index", "View less", "收起"),
    # the menu's sections as lists (a <ul> held <div>s and their <li>s had no list: axe's `list`
    # and `listitem`): the outer list steps aside, each section is a list named by its header
    Replacement("index", r'(\w+\(\w+,\{)("data-testid":`stSidebarNavItems`)', "\\1role:`none`,\\2"),
    Replacement("index", r"(\(\{header:e=``,children:t,isExpanded:n,onToggle:r\}\)=>\w+\(\w+,\{)(children:\[)",
                "\\1role:`list`,\"aria-label\":e||void 0,\\2"),
    Replacement("index", r"`View \$\{([^`{}]+)\} more`", "`展开其余 ${\\1} 项`"),
    Replacement("index", r"showError\(`Page not found`,\{message:`\$\{t\}\. Running the app's main page\.`\}\)",
                "showError(`页面不存在`,{message:`您打开的链接不存在或已失效，已为您打开首页。`})"),
]  # fmt: skip


def _chunks(name: str) -> list[Path]:
    """The installed chunks ``name.<hash>.js`` (several share a name: utils.ob4wbeQt.js holds the
    choices' placeholders, utils.Dl0nPRk0.js the uploaded files' chips)."""
    return sorted(
        p for p in JS_DIR.glob(f"{name}.*.js") if re.fullmatch(rf"{re.escape(name)}\.[\w-]+\.js", p.name)
    )


def patched() -> dict[str, bytes]:
    """File name → translated source, for every chunk a replacement matched in."""
    out: dict[str, bytes] = {}
    for name in dict.fromkeys(r.file for r in REPLACEMENTS):
        for path in _chunks(name):
            source = original = path.read_text(encoding="utf-8")
            for r in (r for r in REPLACEMENTS if r.file == name):
                source = re.sub(r.pattern, r.chinese, source)
            if source != original:
                out[path.name] = source.encode("utf-8")
    return out


def check() -> list[str]:
    """The replacements that match no chunk of the installed Streamlit (empty when all is well)."""
    missing = []
    for r in REPLACEMENTS:
        sources = [p.read_text(encoding="utf-8") for p in _chunks(r.file)]
        if not any(re.search(r.pattern, source) for source in sources):
            missing.append(f"{r.file}: {r.pattern}")
            continue
        try:  # the Chinese is a replacement template: a stray backslash would stop the server
            re.sub(r.pattern, r.chinese, next(s for s in sources if re.search(r.pattern, s)))
        except re.error as exc:
            missing.append(f"{r.file}: {r.chinese}: {exc}")
    return missing
