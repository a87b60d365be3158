"""Hiding what identifies a person in text that is to be made public (答复公开): the scrubber.

``scrub(text, known)`` returns the text with each of these replaced by a neutral word, and the list
of what it hid (``Hit``: the kind and the text found):

* telephone numbers — mainland mobiles however written (``+86 138-1234-5678``, full-width digits),
  landlines with an area code, and numbers after 电话/手机/分机/联系方式 (campus extensions);
* e-mail addresses, 身份证号, QQ and 微信 accounts after their label;
* 工号/学号 and other account numbers after their label, and any run of seven or more digits
  (a student number, a staff number, an unlabelled telephone number);
* grade and class (``2023级``, ``3班``), dormitory buildings and rooms (``5号楼302室``);
* names: the people of the case (``known.names``: the raiser, the visitor, the cadre, the handlers),
  everyone the portal knows whose name has three characters or more (``known.everyone``: two-character
  names are ordinary words too often — 文明, 高明), a surname before a title (张老师 → 某老师), and the
  name after 我叫/姓名;
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
_TITLES = (
    "副教授|教授|老师|同学|主任|书记|院长|处长|科长|校长|部长|辅导员|班主任|师傅|先生|女士|博士|阿姨|工程师|馆长|"
    "经理|会计|医生|大夫"
)
_CN = r"[\u4e00-\u9fff]"
_D = r"\d"  # any decimal digit, full-width included (str patterns are Unicode)

# (kind, pattern, replacement); applied in this order, each on what the ones before left
_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "（邮箱已隐去）"),
    (
        "id_card",
        re.compile(r"(?<!\d)\d{6}(?:19|20|１９|２０)\d{9}[\dXx](?!\d)"),
        "（证件号已隐去）",
    ),
    (
        "account",
        re.compile(r"(?i)(QQ|微信|wechat|vx|weixin)(号|账号)?\s*[:：]?\s*[A-Za-z0-9_\-]{5,30}"),
        r"\1\2（已隐去）",
    ),
    (
        "phone",
        re.compile(
            rf"(?<!{_D})(?:\+?(?:86|８６)[\s\-－]?)?[1１][3-9３-９]{_D}(?:[\s\-－]?{_D}){{8}}(?!{_D})"
        ),
        "（电话已隐去）",
    ),
    ("phone", re.compile(rf"(?<!{_D})[0０]{_D}{{2,3}}[\s\-－]?{_D}{{7,8}}(?!{_D})"), "（电话已隐去）"),
    (
        "phone",
        re.compile(
            rf"(电话|手机|分机|座机|联系方式|联系电话|(?i:tel))(号码?)?\s*[:：]?\s*{_D}(?:[\s\-－]?{_D}){{2,7}}"
        ),
        r"\1\2（已隐去）",
    ),
    (
        "number",
        re.compile(
            r"(工号|学号|职工号|教工号|考生号|证号|账号|编号)\s*[:：]?\s*[A-Za-z]{0,3}\d[A-Za-z0-9]{3,19}"
        ),
        r"\1（已隐去）",
    ),
    ("number", re.compile(rf"(?<!{_D}){_D}{{7,}}(?!{_D})"), "（编号已隐去）"),
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
_TITLED = re.compile(rf"(?:{_SURNAMES}){_CN}{{0,2}}?({_TITLES})")
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
    names = frozenset(n.strip() for n in known.names if len(n.strip()) >= 2) | frozenset(
        n for n in known.everyone if len(n) >= 3
    )
    pattern = _alternation(names)
    if pattern is not None:
        text = sub("name", pattern, "某某", text)
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


def check(text: str, known: Known | None = None) -> list[Hit]:
    """What in ``text`` (an edited draft) still looks like it identifies a person."""
    return scrub(text, known).hits
