"""Hiding what identifies a person in text that is to be made public (答复公开): the scrubber.

``scrub(text, known)`` returns the text with each of these replaced by a neutral word, and the list
of what it hid (``Hit``: the kind and the text found):

* telephone numbers — mainland mobiles however written (``+86 138-1234-5678``, ``(138)1234.5678``,
  ``1 3 8 …``, full-width digits, digits written out: 一三八…, 幺三八…), landlines with an area code,
  and the whole number after 电话/手机/分机/联系方式 (campus extensions), whatever separates its digits;
* e-mail addresses (``＠`` and ``。`` too), 身份证号 (full-width, split), QQ and 微信 accounts after their label;
* 工号/学号 and other account numbers after their label (``学号是 2021 110 123``, written out), and any
  run of seven or more digits, or of seven written-out digits (a student number, a staff number, an
  unlabelled telephone number);
* grade and class (``2023级``, ``3班``), dormitory buildings and rooms (``5号楼302室``);
* names: the people of the case (``known.names``: the raiser, the visitor, the cadre, the handlers),
  everyone the portal knows whose name has three characters or more (``known.everyone``: two-character
  names are ordinary words too often — 文明, 高明), also written with spaces (王 芳) or with the dot
  of a name of several parts typed another way or left out (阿依努尔•吐尔逊, 阿依努尔吐尔逊, and
  阿依努尔 alone), a surname before a title (张老师 → 某老师), and the name after 我叫/姓名;
* the units that would point at the person (``known.units``: the raiser's own), and their numbers
  (``known.numbers``: 工号, telephone number, account name) wherever they appear.

It errs towards hiding: a person edits the draft before anything is published (the 答复公开 page
shows it in an editable box), and ``check`` runs again on the edited text. What it cannot see — a
nickname, a description that fits one person — is the editor's to remove.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .phone import mask

KIND_LABELS = {
    "phone": "电话号码",
    "email": "电子邮箱",
    "id_card": "身份证号",
    "account": "QQ/微信号",
    "number": "工号、学号等编号",
    "class": "年级班级",
    "room": "宿舍楼和房间",
    "unit": "所在单位",
    "name": "姓名",
}
# what the editor may keep after saying it is nobody's (an office's telephone number, a building)
MAY_KEEP = frozenset({"phone", "email", "number", "room", "class"})

_SURNAMES = (
    "欧阳|司马|诸葛|上官|东方|皇甫|慕容|令狐|"
    "王|李|张|刘|陈|杨|黄|赵|吴|周|徐|孙|马|朱|胡|郭|何|林|罗|郑|梁|谢|宋|唐|许|韩|冯|邓|曹|彭|曾|肖|田|董|"
    "袁|潘|蒋|蔡|余|杜|叶|程|苏|魏|吕|丁|任|沈|姚|卢|姜|崔|钟|谭|陆|汪|范|廖|贾|夏|韦|付|邹|孟|"
    "熊|秦|邱|江|尹|薛|闫|段|雷|侯|史|陶|黎|贺|顾|毛|郝|龚|邵|钱|严|覃|武|戴|莫|孔|汤|温|康|施|"
    "牛|樊|葛|邢|齐|易|乔|伍|庞|颜|倪|庄|聂|章|鲁|岳|翟|殷|詹|申|欧|耿|关|兰|焦|俞|左|柳|祝|包|宁|尚|符|"
    "舒|阮|柯|纪|梅|童|凌|毕|季|裴|霍|涂|苗|盛|翁|冉|骆|蓝|辛|靳|柴|蒙|鲍|喻|祁|蒲|房|"
    "滕|屈|饶|牟|穆|缪|芦|褚|娄|窦|戚|岑|卜|晏|"
    "卫|瞿|佟|臧|闵|苟|邬|卞|姬|栾|隋|刁|寇|甄|虞|敖|巩|"
    "明|佘|苑|邝"
)
TITLES = (  # what follows a surname when people are addressed
    "副教授|教授|老师|同学|主任|书记|院长|处长|科长|校长|部长|辅导员|班主任|师傅|先生|女士|博士|阿姨|工程师|馆长|"
    "经理|会计|医生|大夫"
)
_CN = r"[\u4e00-\u9fff]"
_D = r"\d"  # any decimal digit, full-width included (str patterns are Unicode)
# a digit as people also write it out: 一三八…, 二〇二三…, 幺 (how 1 is read out on the telephone)
_N = r"[\d〇零一二三四五六七八九幺]"
_NUMERALS = "〇零一二三四五六七八九幺"
# what people put between the digits of one number: spaces, dashes, dots, brackets
_SEP = r"[\s\-－—.．·()（）]{1,2}"

# (kind, pattern, replacement); applied in this order, each on what the ones before left
_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    (
        "email",
        re.compile(
            # from the start of the run only: tried at every character of a long run, it took seconds
            r"(?<![A-Za-z0-9Ａ-Ｚａ-ｚ０-９._%+\-])[A-Za-z0-9Ａ-Ｚａ-ｚ０-９._%+\-]+\s*[@＠]\s*[A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-]+"
            r"(?:\s*[.．。]\s*[A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-]+)*"
        ),
        "（邮箱已隐去）",
    ),
    (
        "id_card",
        re.compile(r"(?<!\d)\d{6}[\s\-－]?(?:19|20|１９|２０)\d{6}[\s\-－]?\d{3}[\dXxＸｘ](?![\dA-Za-z])"),
        "（证件号已隐去）",
    ),
    (
        "account",
        re.compile(r"(?i)(QQ|微\s*信|wechat|vx|weixin)(号|账号)?\s*[:：]?\s*[A-Za-z0-9_\-]{5,30}"),
        r"\1\2（已隐去）",
    ),
    (
        "phone",
        # a mainland mobile however written: +86, full-width or written-out digits, any separators
        re.compile(
            rf"(?<!{_N})(?:\+?(?:86|８６)[\s\-－]?)?[(（]?[1１一幺](?:{_SEP})?[3-9３-９三四五六七八九]"
            rf"(?:(?:{_SEP})?{_N}){{9}}(?!{_N})"
        ),
        "（电话已隐去）",
    ),
    (
        "phone",
        re.compile(rf"(?<!{_D})[(（]?[0０]{_D}{{2,3}}[)）]?[\s\-－]?{_D}{{3,4}}[\s\-－]?{_D}{{4}}(?!{_D})"),
        "（电话已隐去）",
    ),
    (
        "phone",
        # after its label, the whole number: every digit up to the end of the number, whatever stands between
        re.compile(
            rf"(电话|手机|分机|座机|联系方式|联系电话|(?i:tel))(号码?)?\s*(?:[:：是为]\s*)?"
            rf"[(（]?{_N}(?:(?:{_SEP})?{_N}){{2,19}}"
        ),
        r"\1\2（已隐去）",
    ),
    (
        "number",
        re.compile(
            r"(工号|学号|职工号|教工号|考生号|证号|账号|编号)\s*(?:[:：是为]\s*)?(?:[A-Za-z]{1,3}[\s\-－]?)?"
            rf"{_N}(?:[A-Za-z]|[\s\-－]?{_N}){{3,19}}"
        ),
        r"\1（已隐去）",
    ),
    ("number", re.compile(rf"(?<!{_D}){_D}{{7,}}(?!{_D})"), "（编号已隐去）"),
    ("number", re.compile(rf"(?<![{_NUMERALS}])[{_NUMERALS}]{{7,}}(?![{_NUMERALS}])"), "（编号已隐去）"),
    ("class", re.compile(r"(?:\d{2,4}|[零〇一二三四五六七八九]{2,4})\s*级"), "某级"),
    ("class", re.compile(r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*班(?![车次级长])"), "某班"),
    ("room", re.compile(r"\d{1,3}\s*(号楼|栋|幢|号公寓)"), r"某\1"),
    ("room", re.compile(r"(?<=[楼栋幢寓])\s*\d{3,4}\s*(?:室|寝室|宿舍|房间|号)?"), "某室"),
    ("room", re.compile(r"\d{3,4}\s*(室|寝室|宿舍|房间)"), r"某\1"),
]
# words before a title that are no name (任课老师, 全体同学, 有关老师, 关于老师的 …)
_NOT_NAMES = (
    "任课",
    "授课",
    "全体",
    "有关",
    "相关",
    "关于",
    "各位",
    "广大",
    "全校",
    "本班",
    "指导",
    "值班",
    "带班",
    "宿管",
    "辅导",
    "相应",
    "其他",
    "部分",
    "一些",
    "很多",
    "许多",
    "毕业",
    "新生",
    "在校",
    "留学",
    "研究",
    "本科",
    "专职",
    "兼职",
    "主管",
    "分管",
    "负责",
    "管理",
    "后勤",
    "学院",
    "学校",
)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_TITLED = re.compile(rf"(?:{_SURNAMES}){_CN}{{0,2}}?({TITLES})")
_CALLED = re.compile(rf"(我叫|名叫|姓名\s*[:：]?)\s*({_CN}{{2,4}}?)(?=$|[，,。；;、\s（(：:！!？?])")


@dataclass(frozen=True)
class Hit:
    kind: str
    text: str

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Known:
    """What the portal knows identifies the people concerned."""

    names: tuple[str, ...] = ()  # hidden wherever they appear (two characters or more)
    numbers: tuple[str, ...] = ()  # 工号/学号, telephone numbers, account names
    units: tuple[str, ...] = ()  # units that would point at the person
    everyone: frozenset[str] = field(default_factory=frozenset)  # every name the portal holds


@dataclass(frozen=True)
class Result:
    text: str
    hits: list[Hit]

    def summary(self) -> str:
        """隐去：电话号码 2 处、姓名 1 处 ('' when nothing was hidden)."""
        counts: dict[str, int] = {}
        for h in self.hits:
            counts[h.label] = counts.get(h.label, 0) + 1
        return "、".join(f"{k} {v} 处" for k, v in counts.items())


@lru_cache(maxsize=8)
def _alternation(words: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``words``, the longest first (张三丰 before 张三)."""
    chosen = sorted((w for w in words if w), key=len, reverse=True)
    if not chosen:
        return None
    return re.compile("|".join(re.escape(w) for w in chosen))


# What may stand between the characters of a written name: spaces (王 芳) and the dot of names such as
# 阿依努尔·吐尔逊, however it is typed (· • ・ ‧ ･ ．), or left out.
_NAME_GAP = re.compile(r"(?<=[\u3400-\u9fff])[\s·•・‧∙⋅･.．]+(?=[\u3400-\u9fff])")
_NAME_DOTS = re.compile(r"[\s·•・‧∙⋅･.．]+")


@lru_cache(maxsize=8)
def _name_forms(names: frozenset[str], shortest: int) -> frozenset[str]:
    """The names as they are looked for (``_sub_names``: without their gaps), of ``shortest``
    characters or more; a name of several parts (阿依努尔·吐尔逊) also by each part of three characters
    or more, which is how its bearer is called (阿依努尔同学)."""
    forms: set[str] = set()
    for name in names:
        parts = [p for p in _NAME_DOTS.split(name.strip()) if p]
        whole = "".join(parts)
        if len(whole) >= shortest:
            forms.add(whole)
        if len(parts) > 1:
            forms.update(p for p in parts if len(p) >= max(3, shortest))
    return frozenset(forms)


def _sub_names(pattern: re.Pattern[str], text: str, hits: list[Hit]) -> str:
    """Replace each name ``pattern`` finds with 某某, also where spaces or a dot stand between its
    characters (王 芳, 阿依努尔 • 吐尔逊): names are looked for in the text without those gaps, and
    each one found is replaced in the text as written."""
    kept: list[int] = []  # the position in ``text`` of each character of the gapless text
    start = 0
    for gap in _NAME_GAP.finditer(text):
        kept.extend(range(start, gap.start()))
        start = gap.end()
    kept.extend(range(start, len(text)))
    gapless = "".join(text[i] for i in kept) if len(kept) < len(text) else text
    spans = [(kept[m.start()], kept[m.end() - 1] + 1) for m in pattern.finditer(gapless)]
    hits.extend(Hit("name", text[begin:end]) for begin, end in spans)
    for begin, end in reversed(spans):
        text = text[:begin] + "某某" + text[end:]
    return text


def _unit_word(unit: str) -> str:
    return "某学院" if unit.endswith("学院") else "某单位"


def scrub(text: str, known: Known | None = None) -> Result:
    """The text with what identifies a person hidden, and what was hidden."""
    known = known or Known()
    hits: list[Hit] = []

    def sub(kind: str, pattern: re.Pattern[str], replacement, value: str) -> str:
        def one(m: re.Match[str]) -> str:
            hits.append(Hit(kind, m.group(0)))
            return m.expand(replacement) if isinstance(replacement, str) else replacement(m)

        return pattern.sub(one, value)

    numbers = _alternation(frozenset(n.strip() for n in known.numbers if len(n.strip()) >= 3))
    if numbers is not None:

        def number(m: re.Match[str]) -> str:
            mobile = _MOBILE.fullmatch(m.group(0)) is not None
            hits.append(Hit("phone" if mobile else "number", m.group(0)))
            return "（电话已隐去）" if mobile else "（编号已隐去）"

        text = numbers.sub(number, text)
    for kind, pattern, replacement in _PATTERNS:
        text = sub(kind, pattern, replacement, text)
    units = _alternation(frozenset(u.strip() for u in known.units if len(u.strip()) >= 2))
    if units is not None:
        text = sub("unit", units, lambda m: _unit_word(m.group(0)), text)
    names_pattern = _alternation(_name_forms(frozenset(known.names), 2) | _name_forms(known.everyone, 3))
    if names_pattern is not None:
        text = _sub_names(names_pattern, text, hits)
    text = sub("name", _CALLED, lambda m: m.group(1) + "某某", text)
    text = sub_titled(text, hits)
    return Result(text, hits)


def sub_titled(text: str, hits: list[Hit]) -> str:
    """A surname before a title (张老师 → 某老师), unless the words are no name (任课老师, 有关同学)."""

    def one(m: re.Match[str]) -> str:
        before = m.group(0)[: -len(m.group(1))]
        around = text[max(0, m.start() - 2) : m.start()] + before
        if any(word in around for word in _NOT_NAMES):
            return m.group(0)
        hits.append(Hit("name", m.group(0)))
        return "某" + m.group(1)

    return _TITLED.sub(one, text)


_AS_DIGITS = str.maketrans("〇零一幺二三四五六七八九", "001123456789")


_SURNAME = re.compile(rf"(?:{_SURNAMES})")


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name: a surname of two characters (欧阳) when the name
    starts with one, else the first character (a name of other parts is split at its dot)."""
    name = "".join(name.split())
    if len(_NAME_DOTS.split(name)) > 1:
        first, *rest = [p for p in _NAME_DOTS.split(name) if p]
        return first, "".join(rest)
    found = _SURNAME.match(name)
    cut = len(found.group(0)) if found and len(found.group(0)) == 2 and len(name) > 2 else 1
    return name[:cut], name[cut:]


def plain_digits(text: str) -> str:
    """The letters and digits of ``text`` with every digit as an ASCII one — full-width (１３８), written
    out (一三八, 幺三八) or plain — so that a number is recognised however it was written."""
    out = []
    for ch in text.translate(_AS_DIGITS):
        if ch.isdecimal():
            out.append(str(int(ch)))  # int() reads any decimal digit: １ → 1
        elif ch.isalnum():
            out.append(ch)
    return "".join(out)


def check(text: str, known: Known | None = None) -> list[Hit]:
    """What in ``text`` (an edited draft) still looks like it identifies a person."""
    return scrub(text, known).hits


# one pass over all of them: a number masked by one must not be found again (and cut) by the next
_PHONES = re.compile("|".join(f"(?:{pattern.pattern})" for kind, pattern, _ in _PATTERNS if kind == "phone"))
_NUMBER_START = re.compile(rf"[+(（]|{_N}")


def mask_phones(text: str) -> str:
    """``text`` with every telephone number ``scrub`` finds in it masked as lists show numbers
    (``phone.mask``: 139****5678, an extension ***23), however it was written (spaced, +86, full-width,
    written out); a label before it (电话：) stays. For free text kept where a masked number is enough:
    the audit log's reasons."""

    def one(m: re.Match[str]) -> str:
        whole = m.group(0)
        start = _NUMBER_START.search(whole)
        at = start.start() if start else 0
        digits = plain_digits(whole[at:])
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        return whole[:at] + mask(digits)

    return _PHONES.sub(one, text)
