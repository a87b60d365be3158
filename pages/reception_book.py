import datetime as dt

import streamlit as st
from sqlite_utils import Database

from pages import common, state
from pages.reception_widgets import (
    ask_to_cancel,
    booking_card,
    cancel_dialog,
    ics_button,
    leave_dialog,
    offer_box,
    waiting_card,
)
from portal import cache, dates, org, publication, reception
from portal.errors import PortalError, SeatTaken, ValidationError
from portal.reception import bans, bookings, roster, waitlist

user = common.require(__file__)

st.title("预约接待")
st.caption(
    "校领导每周三全天轮流接待师生来访（第十一条）：能答复的当面答复，不能当即答复的交党办或校办协调，"
    "5 个工作日内反馈落实情况（第十二条）。每人每个接待日限预约一次。"
)

FIELDS = (
    "category",
    "subject",
    "description",
    "group",
    "publish_consent",
)  # the form's widget keys, reset after booking


def notice(where: str) -> None:
    """What the previous run did (slot taken meanwhile, cancelled, a form refused), said once,
    where the user is looking: above the slots or below the form. (预约成功 is said by the card.)"""
    said = state.BOOK_NOTICE.get()
    if said is not None and said.where == where:
        state.BOOK_NOTICE.pop()
        said.show()


with common.database() as db:
    if common.arrived():  # offers not confirmed in time pass on, closed lists end (cheap when none)
        waitlist.sweep(db)
    banned = bans.active_ban(db, user.id)
if banned is not None:  # the no-show rule: why, and until when
    st.error(banned.describe(), icon=":material/block:")
    common.page_link("pages/my_bookings.py", label="查看我的预约", icon=":material/event_note:")
    st.stop()


def moved_on() -> None:
    """Another day chosen: the confirmation of the booking just made has been seen."""
    state.JUST_BOOKED.pop()


if common.arrived():  # a new visit of the page: an old confirmation is not news, an old submit not booked
    moved_on()
    state.BOOK_SUBMITTED.drop()


@common.page_fragment(user, __file__)
def booking_area() -> None:
    """The days, the slots and the form: what a tap on this page changes reruns only this part, not
    the menu, the session's page list and the page's head (in a booking rush, a fifth of the server's
    work per submit). The session is checked again for each of its runs (common.page_fragment)."""

    def book_submitted(db: Database, day_iso: str, slot: str | None, slot_lost: bool, token: str) -> None:
        """The submit of 提交预约 (``send``), booked for the user this run has checked."""
        kept = st.session_state
        if slot is None and slot_lost:  # explained above the grid
            return
        data = reception.BookingInput(
            date=dt.date.fromisoformat(day_iso),
            slot=slot or "",  # none chosen: the service says so, with every other problem of the form
            category=kept.get("category") or "",
            subject=kept.get("subject", ""),
            description=kept.get("description", ""),
            phone=kept.get(f"phone_{day_iso}", ""),
            group_size=int(kept.get("group", 1)),
            publish_consent=bool(kept.get("publish_consent", False)),
        )
        try:
            made = reception.book(db, user, data, token=token)
        except SeatTaken:
            state.BOOK_NOTICE.set(
                state.Notice(
                    f"您选择的时段 {tpl.slot_label(data.slot)} 已被他人约满，没有为您预约。请在下方重新选择时段（已刷新）。",
                    "error",
                    where="grid",
                )
            )
            state.SLOT_CHOICE.pop()
            return
        except ValidationError as exc:
            state.BOOK_PROBLEMS.set(exc.problems)  # all of them, each shown beside its field
        except PortalError as exc:
            state.BOOK_NOTICE.set(state.Notice(exc.message, "error", where="form"))
        else:
            for key in FIELDS:
                kept.pop(key, None)
            state.SLOT_CHOICE.pop()
            state.JUST_BOOKED.set(made.code)

    with common.database() as db:
        # the days and their template do not change between two bookers: shared for a few seconds,
        # not recomputed after every booking of a rush (book() checks the day again when it writes)
        tpl, open_days, upcoming = cache.recent(
            db,
            ("reception-days",),
            lambda: (reception.load_template(db), reception.bookable_days(db), bookings.upcoming_days(db)),
        )
        if (submitted := state.BOOK_SUBMITTED.pop()) is not None:
            book_submitted(db, *submitted)  # before the days' states and the grid are read
        open_days = list(open_days)  # nearest first
        profile_phone = org.get_person(db, user.person_id).phone if user.person_id else ""
        held = {d.date: reception.mine_on(db, user, d.date) for d in open_days}
        grids = {d.date: reception.slots(db, d.date, user) for d in open_days}
        waits = {d.date: waitlist.waiting_on(db, user, d.date) for d in open_days if held[d.date] is None}

    if not open_days:
        st.info("目前没有开放预约的接待日。")
        with common.database() as db:
            for d in upcoming:
                if not d.cancelled:
                    st.text(
                        f"{dates.format_date(d.date)}  {d.leader_name}\n{bookings.window(db, d.date, tpl).describe()}"
                    )
        st.stop()

    def day_label(iso: str) -> str:
        """A day as the user picks it: only what names the day. Streamlit sends a choice back as the label
        the user saw; a label holding the free slots would change under a second tap (the first one's
        booking changed it) and the choice would fall back to the first day. What changes is a caption."""
        d = next(x for x in open_days if x.date.isoformat() == iso)
        leader = f"{d.leader_name}（{d.leader_title}）" if d.leader_title else d.leader_name
        return f"{dates.format_date(d.date)}　{leader}"

    def day_state(d: roster.DutyDay) -> str:
        mine = held[d.date]
        if mine is not None:
            return f"已预约 {mine.slot_label}"
        if (wait := waits.get(d.date)) is not None:
            return f"候补第 {wait.position} 位"
        free = sum(1 for s in grids[d.date] if s.free)
        return f"余 {free} 个时段" if free else "已约满，可候补"

    st.subheader("1. 选择接待日")
    chosen = st.radio(
        "接待日",
        [d.date.isoformat() for d in open_days],
        format_func=day_label,
        captions=[day_state(d) for d in open_days],
        key="day",
        label_visibility="collapsed",
        on_change=moved_on,
    )
    day = next(d for d in open_days if d.date.isoformat() == chosen)
    form_name = f"booking_{day.date.isoformat()}"
    with common.database() as db:
        closes = bookings.window(db, day.date, tpl).closes
    st.caption(f"地点：{common.md(day.place)}　预约截止：{dates.format_date(closes.date())} {closes:%H:%M}")

    mine = held[day.date]
    grid = grids[day.date]
    waiting = waits.get(day.date)

    def pick(day_iso: str, slot: str) -> None:
        state.SLOT_CHOICE.set((day_iso, slot))

    def slot_grid(picked: str | None) -> None:
        """The day's slots as buttons, session by session: a free one to pick, 已满 ones disabled. Drawn
        only while the user holds no booking that day (then the booking takes the grid's place)."""
        for title, session in zip(("上午", "下午", "晚上"), tpl.sessions, strict=False):
            in_session = [s for s in grid if session[0] <= s.slot < session[1]]
            if not in_session:
                continue
            st.markdown(f"**{title}**")
            with st.container(horizontal=True, gap="small"):
                for s in in_session:
                    if not s.free:
                        st.button(f"{s.label} 已满", key=f"slot_{s.slot}", disabled=True, width=170)
                        continue
                    st.button(
                        s.label,
                        key=f"slot_{s.slot}",
                        type="primary" if s.slot == picked else "secondary",
                        on_click=pick,
                        args=(day.date.isoformat(), s.slot),
                        width=170,
                    )

    choice = state.SLOT_CHOICE.get()
    picked = choice[1] if choice and choice[0] == day.date.isoformat() and mine is None else None
    lost = None  # the slot chosen earlier, filled by someone else since
    if picked and not any(s.slot == picked and s.free for s in grid):
        # filled while the user was typing: say so and let the user choose; never move to another slot
        lost, picked = picked, None
        state.SLOT_CHOICE.pop()

    if mine is not None:
        # the user's booking of that day, instead of an empty form
        st.subheader("您在该接待日的预约")
        if state.JUST_BOOKED.get() == mine.code:
            # said on every run until the user moves on, not once: a second tap on 提交预约 runs the
            # page again, and a confirmation shown once would be gone before it was read
            st.success(f"预约成功，预约编号 {mine.code}。请按时到达，凭预约编号签到；预约详情见下方。")
        common.fresh_form(form_name)  # a new form after a cancel is a new rendering
        with common.database() as db:
            cancellable = bookings.can_cancel(db, user, mine)
        if said := state.OFFER_NOTICE.pop():
            st.success(said)
        with st.container(border=True):
            booking_card(mine)
            offer_box(user, mine)
            if cancellable:
                ask_to_cancel(mine)
            else:
                st.caption("已过取消截止时间，如需取消请联系党办或校办。")
        ics_button(user, mine)
        common.page_link("pages/my_bookings.py", label="查看我的全部预约", icon=":material/event_note:")
    else:
        if waiting is not None:
            st.subheader("您在该接待日的候补")
            waiting_card(waiting)
            st.caption("也可以直接预约下方仍有空位的时段，预约后自动退出候补。")
        st.subheader("2. 选择时段")
        st.caption("点选一个可预约的时段；标“已满”的不能选。")
        notice("grid")
        if lost is not None:
            st.error(
                f"您选择的时段 {tpl.slot_label(lost)} 已被他人约满，没有为您预约。请在下方重新选择时段（已刷新）。"
            )
        slot_grid(picked)

    def cancelled(b: bookings.Booking) -> None:
        moved_on()
        common.fresh_form(f"booking_{b.date.isoformat()}")
        state.BOOK_NOTICE.set(state.Notice(f"预约 {b.code} 已取消，该时段已释放。", where="grid"))

    def left(e: waitlist.Entry) -> None:
        state.BOOK_NOTICE.set(state.Notice(f"已退出 {dates.format_date(e.date)} 的候补。", where="grid"))

    cancel_dialog(user, cancelled)
    leave_dialog(user, left)
    if mine is not None:
        st.stop()

    def wait_form(options: list[str]) -> None:
        """加入候补: the booking form's fields and the wish (any slot, or one full slot)."""
        form = f"wait_{day.date.isoformat()}"
        with common.database() as db:
            ahead = waitlist.waiting_count(db, day.date)
        st.caption(
            f"目前有 {ahead} 人候补。有人取消时，按登记先后把名额递补给时段合适的候补人，并立即通知；"
            f"{dates.format_date(tpl.confirm_by(day.date).date())} {tpl.confirm_time} 前递补的名额须在此之前确认前往，"
            "逾期让给下一位。预约截止后候补自动结束。"
        )
        with st.form(form):
            wish = st.selectbox(
                "候补时段",
                options,
                format_func=lambda s: tpl.slot_label(s) if s else "任一时段",
                key=f"{form}_slot",
            )
            category = st.selectbox(
                "反映事项类别",
                reception.CATEGORIES,
                index=None,
                placeholder="请选择类别",
                key=f"{form}_category",
            )
            subject = st.text_input("反映事项（简要）", max_chars=100, key=f"{form}_subject")
            description = st.text_area("具体情况（选填）", max_chars=2000, key=f"{form}_description")
            phone = st.text_input(
                "联系电话（手机号或校内分机）", value=profile_phone, max_chars=20, key=f"{form}_phone"
            )
            group = st.number_input(
                "来访人数", min_value=1, max_value=tpl.max_group, value=1, step=1, key=f"{form}_group"
            )
            if st.form_submit_button("加入候补", type="primary", icon=":material/hourglass_top:"):
                if category is None:
                    st.error("请选择反映事项类别。")
                    return
                data = waitlist.WaitInput(
                    date=day.date,
                    slot=wish or None,
                    category=category,
                    subject=subject,
                    description=description,
                    phone=phone,
                    group_size=int(group),
                )
                try:
                    with common.database() as db:
                        made = waitlist.join(db, user, data, token=common.form_token(form))
                except PortalError as exc:
                    common.show_error(exc)
                    return
                common.fresh_form(form)
                state.WAIT_OPEN.pop()
                state.BOOK_NOTICE.set(
                    state.Notice(
                        f"已加入候补（{made.wish}），当前排在第 {made.position} 位。递补后会通知您，也可在“我的预约”查看。",
                        where="grid",
                    )
                )
                st.rerun()

    full = [s.slot for s in grid if not s.free]
    if not any(s.free for s in grid):
        if waiting is None:
            st.warning("该接待日已约满。可以加入候补，有人取消时按先后递补；也可以选择其他接待日。")
            st.subheader("3. 加入候补")
            wait_form(["", *full])
        st.stop()

    def send(day_iso: str, slot: str | None, slot_lost: bool, token: str) -> None:
        """提交预约 (a callback): what was submitted is booked as the booking area's next run starts,
        once its session is checked (common.page_fragment), before anything is drawn: one run books
        and shows what came of it — the booking, or why not."""
        state.BOOK_SUBMITTED.set((day_iso, slot, slot_lost, token))

    st.subheader("3. 填写反映事项")
    token = common.form_token(form_name)  # this rendering's: a resubmit of it books nothing more
    problems = state.BOOK_PROBLEMS.pop()  # what the callback's submit brought, known before the form is drawn
    errors = common.FieldErrors(known=problems or [])
    with st.form("booking"):
        if picked is None:
            st.text("已选时段：尚未选择（请在上方点选一个时段）")
        else:
            st.text(f"已选时段：{dates.format_date(day.date)} {tpl.slot_label(picked)}　{day.leader_name}")
        errors.under("slot")
        st.selectbox(
            "反映事项类别", reception.CATEGORIES, index=None, placeholder="请选择类别", key="category"
        )
        errors.under("category")
        st.text_input("反映事项（简要）", max_chars=100, key="subject")
        errors.under("subject")
        st.text_area("具体情况（选填）", max_chars=2000, key="description")
        errors.under("description")
        st.text_input(
            "联系电话（手机号或校内分机）",
            value=profile_phone,
            max_chars=20,
            key=f"phone_{day.date.isoformat()}",
        )
        errors.under("phone")
        st.number_input(
            f"来访人数（集体反映请推选不超过 {tpl.max_group} 名代表）",
            min_value=1,
            max_value=tpl.max_group,
            value=1,
            step=1,
            key="group",
        )
        errors.under("group_size")
        # a consent of its own (PIPL Art. 25), never ticked in advance; booking does not depend on it
        st.checkbox(
            publication.CONSENT_LABEL, value=False, key="publish_consent", help=publication.CONSENT_WORDING
        )
        st.form_submit_button(
            "提交预约",
            type="primary",
            icon=":material/event_available:",
            on_click=send,
            args=(day.date.isoformat(), picked, lost is not None, token),
        )
    notice("form")
    if problems:
        errors.show(ValidationError(problems=problems))

    if waiting is None and full:  # a full slot of a day with room: its own waiting list, asked for first
        if state.WAIT_OPEN.get() == day.date.isoformat():
            st.subheader("加入候补")
            wait_form(full)
        elif st.button(
            "想约的时段已满？加入候补", icon=":material/hourglass_top:", type="tertiary", key="wait_open_btn"
        ):
            state.WAIT_OPEN.set(day.date.isoformat())
            st.rerun()


booking_area()
