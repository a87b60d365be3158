"""Which pages exist and who may open them — data, read by the entry script and by every page.

A page is shown to a user holding any of its roles; every page checks again when it runs
(``pages/common.require``), so a hand-typed URL gets no further than the menu.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from .accounts import User

ALL_ROLES = frozenset({"visitor", "cadre", "department", "admin"})
SECTIONS = ["", "预约接待", "我的工作", "部门工作", "系统管理", "个人"]


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the project root, e.g. "pages/home.py"
    title: str
    icon: str  # a Material icon: renders without an emoji font
    roles: frozenset[str]
    section: str = ""
    description: str = ""  # what the home page says the page is for
    departments: frozenset[str] | None = None  # department role limited to these (None: any)
    cadre_levels: frozenset[str] | None = None  # cadre role limited to posts of these levels (None: any)
    hidden: bool = False  # reached by its links only (a QR code), never listed in the menu
    address: str = ""  # the URL path when it is not the file's name (a page renamed keeps its bookmarks)

    @property
    def url_path(self) -> str:
        return self.address or self.path.removeprefix("pages/").removesuffix(".py")


PAGES: list[PageSpec] = [
    PageSpec("pages/home.py", "首页", ":material/home:", ALL_ROLES),
    PageSpec(
        "pages/reception_book.py",
        "预约接待",
        ":material/event_available:",
        frozenset({"visitor", "cadre"}),
        "预约接待",
        "预约每周三校领导接待日的接待时段，反映意见建议或需要学校协调帮助的事项",
    ),
    PageSpec(
        "pages/my_bookings.py",
        "我的预约",
        ":material/event_note:",
        frozenset({"visitor", "cadre"}),
        "预约接待",
        "查看预约状态、取消预约、下载日历，查看所反映问题的办理进展和答复",
    ),
    PageSpec(
        "pages/reception_roster.py",
        "接待日安排",
        ":material/calendar_month:",
        ALL_ROLES,
        "预约接待",
        "每周三值班校领导安排；党办、校办排班、对调、替班、取消",
    ),
    PageSpec(
        "pages/reception_day.py",
        "接待当日",
        ":material/how_to_reg:",
        frozenset({"department", "cadre", "admin"}),
        "预约接待",
        "当日来访名单、签到、记录接待情况（当面答复或转交办理），生成接待日记录",
        departments=frozenset({"党办", "校办"}),
        cadre_levels=frozenset({"校级"}),  # school leaders take the duty days (第十一条)
    ),
    PageSpec(
        "pages/checkin.py",
        "签到",
        ":material/qr_code_scanner:",
        ALL_ROLES,
        "预约接待",
        hidden=True,  # the QR code of a booking opens it: staff check in, the visitor sees his booking
    ),
    PageSpec(
        "pages/dashboard.py",
        "我的工作台",
        ":material/dashboard:",
        frozenset({"cadre", "department", "admin"}),
        "我的工作",
        "本月、本学期、本学年、本年度各项联系师生任务的完成情况、进度和截止时间",
    ),
    PageSpec(
        "pages/activity_form.py",
        "记录联系活动",
        ":material/edit_note:",
        frozenset({"cadre", "department", "admin"}),
        "我的工作",
        "按 11 项制度记录联系活动（部门可代干部录入本部门负责的制度），意见建议自动转办",
        address="activity_log",  # the form's address before its file was named for what it holds
    ),
    PageSpec(
        "pages/activities.py",
        "联系活动记录",
        ":material/list_alt:",
        frozenset({"cadre", "department", "admin"}),
        "我的工作",
        "查询、修改、作废联系活动，下载《领导干部联系师生工作记录表》，批量导出",
    ),
    PageSpec(
        "pages/assignments.py",
        "联系对象",
        ":material/groups:",
        frozenset({"cadre", "department", "admin"}),
        "我的工作",
        "联系学院、联系点、结对子、党支部、高层次人才、党外代表人士、离退休老同志及名单维护",
        departments=frozenset({"党办", "校办", "组织部", "统战部", "老干部工作处"}),
    ),
    PageSpec(
        "pages/my_cases.py",
        "我的诉求",
        ":material/feedback:",
        frozenset({"visitor", "cadre"}),
        "预约接待",
        "查看所反映意见建议的办理进度和答复，确认是否满意",
    ),
    PageSpec(
        "pages/answers.py",
        "答复公开",
        ":material/campaign:",
        ALL_ROLES,
        "预约接待",
        "经提出人同意、隐去个人信息后公开的意见建议答复，可检索；党办、校办在此审核公开",
    ),
    PageSpec(
        "pages/cases.py",
        "意见建议办理",
        ":material/assignment_late:",
        frozenset({"department", "admin", "cadre"}),
        "部门工作",
        "意见建议登记、转办、答复、办结；督办逾期和临期的件，导出督办台账",
    ),
    PageSpec(
        "pages/standing.py",
        "干部任务总览",
        ":material/groups_3:",
        frozenset({"department", "admin"}),
        "部门工作",
        "在任干部对照当前各期间任务的完成情况，按单位、级别、状态筛选，落后最多的在前，导出 Excel",
    ),
    PageSpec(
        "pages/search.py",
        "检索",
        ":material/search:",
        ALL_ROLES,
        "我的工作",
        "在有权查看的联系活动和意见建议中按词检索（内容、答复、意见建议、落实情况、姓名、编号）",
    ),
    PageSpec(
        "pages/ledger.py",
        "工作台账",
        ":material/table_view:",
        frozenset({"department", "admin"}),
        "部门工作",
        "按制度、期间、单位、干部统计联系活动和学校层面的制度落实情况，导出 Excel 台账",
    ),
    PageSpec(
        "pages/assessment.py",
        "年度考核",
        ":material/leaderboard:",
        frozenset({"department", "admin"}),
        "部门工作",
        "按年度统计每位干部、每个单位的制度完成率，热力图、排名，导出 Excel 和 Word 报告",
        departments=frozenset({"组织部"}),
    ),
    PageSpec(
        "pages/org_people.py",
        "组织与干部",
        ":material/apartment:",
        frozenset({"admin", "department"}),
        "系统管理",
        "查看单位、干部职务与标签",
    ),
    PageSpec(
        "pages/admin_import.py",
        "数据导入",
        ":material/upload_file:",
        frozenset({"admin"}),
        "系统管理",
        "上传单位、干部、账号等 Excel/CSV 表格，预览、核对错误后确认导入",
    ),
    PageSpec(
        "pages/admin_users.py",
        "账号管理",
        ":material/manage_accounts:",
        frozenset({"admin"}),
        "系统管理",
        "新建账号、分配角色、重置密码、停用账号",
    ),
    PageSpec(
        "pages/admin_rules.py",
        "规则管理",
        ":material/rule:",
        frozenset({"admin"}),
        "系统管理",
        "查看各项制度的考核规则及条款依据，导入修订后的规则文件并设定施行日期",
    ),
    PageSpec(
        "pages/admin_calendar.py",
        "校历与工作日",
        ":material/event:",
        frozenset({"admin"}),
        "系统管理",
        "设置学期与教学周，导入国家法定节假日和调休安排，维护学校自定的工作日调整",
    ),
    PageSpec(
        "pages/admin_notify.py",
        "消息通知",
        ":material/notifications:",
        frozenset({"admin"}),
        "系统管理",
        "查看邮件、企业微信、钉钉消息的发送情况，重新发送失败的消息",
    ),
    PageSpec(
        "pages/admin_audit.py",
        "操作日志",
        ":material/history:",
        frozenset({"admin"}),
        "系统管理",
        "查询谁在何时做了什么：账号、导入、排班、规则、作废等操作的审计记录",
    ),
    PageSpec(
        "pages/account.py",
        "我的账号",
        ":material/person:",
        ALL_ROLES,
        "个人",
        "修改密码、查看本人角色、设置消息通知的接收方式",
    ),
]


def spec(path: str) -> PageSpec | None:
    path = path.replace("\\", "/")
    for page in PAGES:
        if path.endswith(page.path):
            return page
    return None


def can_open(user: User | None, page_or_path: PageSpec | str) -> bool:
    page = spec(page_or_path) if isinstance(page_or_path, str) else page_or_path
    if user is None or page is None:
        return False
    for role in user.roles:
        if role.role not in page.roles:
            continue
        if (
            role.role == "department"
            and page.departments is not None
            and role.department not in page.departments
        ):
            continue
        if (
            role.role == "cadre"
            and page.cadre_levels is not None
            and not page.cadre_levels & set(user.cadre_levels)
        ):
            continue
        return True
    return False


def pages_for(user: User) -> dict[str, list[PageSpec]]:
    """The user's menu, by section, in SECTIONS order."""
    menu: dict[str, list[PageSpec]] = {s: [] for s in SECTIONS}
    for page in PAGES:
        if can_open(user, page):
            menu.setdefault(page.section, []).append(page)
    return {s: pages for s, pages in menu.items() if pages}


def return_path(value: str | None) -> str:
    """Where to land after a login (CAS, OIDC): one of the pages above with its query
    (``/cases?no=…``), never another site and never one of the server's own routes (``/auth/claim``
    would trade a token an attacker chose for the attacker's session cookie); else ``/``."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        return "/"
    if not value.isprintable():
        return "/"
    parts = urllib.parse.urlsplit(value)
    if parts.scheme or parts.netloc or parts.path not in _LANDINGS:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query and parts.path != "/" else "")


_LANDINGS = frozenset({"/", *(f"/{page.url_path}" for page in PAGES)})
