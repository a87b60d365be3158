"""Which pages exist and who may open them — data, read by the entry script and by every page.

A page is shown to a user holding any of its roles; every page checks again when it runs
(``pages/common.require``), so a hand-typed URL gets no further than the menu.
"""

from __future__ import annotations

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

    @property
    def url_path(self) -> str:
        return self.path.removeprefix("pages/").removesuffix(".py")


PAGES: list[PageSpec] = [
    PageSpec("pages/home.py", "首页", ":material/home:", ALL_ROLES),
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
        "pages/account.py", "我的账号", ":material/person:", ALL_ROLES, "个人", "修改密码、查看本人角色"
    ),
]


def spec(path: str) -> PageSpec | None:
    path = path.replace("\\", "/")
    for page in PAGES:
        if path.endswith(page.path):
            return page
    return None


def can_open(user: User | None, page: PageSpec | str) -> bool:
    page = spec(page) if isinstance(page, str) else page
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
        return True
    return False


def pages_for(user: User) -> dict[str, list[PageSpec]]:
    """The user's menu, by section, in SECTIONS order."""
    menu: dict[str, list[PageSpec]] = {s: [] for s in SECTIONS}
    for page in PAGES:
        if can_open(user, page):
            menu.setdefault(page.section, []).append(page)
    return {s: pages for s, pages in menu.items() if pages}
