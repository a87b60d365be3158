"""签到: what a booking's QR code opens (``/checkin?code=AB23CD``). 党办/校办 staff and the leader on duty,
scanning it with a phone's camera, check the visitor in with one tap; the visitor who opens it sees only
his or her own booking and the code to show; anyone else learns nothing. Not in the menu."""

import streamlit as st

from pages import common, state
from pages.reception_widgets import booking_card, visit_card
from portal import dates
from portal.errors import PortalError
from portal.reception import day as reception_day

user = common.require(__file__)

st.title("签到")
code = st.query_params.get("code", "").strip().upper()
if not code:
    st.info("请用手机相机扫描预约确认上的签到二维码，或在“接待当日”输入 6 位预约编号签到。")
    st.stop()

try:
    with common.database() as db:
        booking, staff = reception_day.find_for_checkin(db, user, code)
except PortalError as exc:
    common.show_error(exc)
    st.stop()

if not staff:  # the visitor himself: his booking and the code to show at the desk
    st.caption("到达接待室后，请向工作人员出示此二维码或报预约编号，由工作人员扫码签到。")
    with st.container(border=True):
        booking_card(booking)  # with its QR code while it stands
    st.stop()

day_link = {"date": dates.today().isoformat()}
if said := state.CHECKIN_NOTICE.pop():
    st.success(said, icon=":material/how_to_reg:")
    visit_card(booking)
    common.page_link(
        "pages/reception_day.py", label="打开接待当日", icon=":material/how_to_reg:", query_params=day_link
    )
    st.stop()
visit_card(booking)
problem = reception_day.checkin_problem(booking)
if problem:
    st.error(problem)
    common.page_link(
        "pages/reception_day.py", label="打开接待当日", icon=":material/how_to_reg:", query_params=day_link
    )
    st.stop()
if st.button(
    "签到", type="primary", icon=":material/how_to_reg:", key=f"checkin_{booking.id}", width="stretch"
):
    try:
        with common.database() as db:
            done = reception_day.check_in_code(db, user, booking.code)
    except PortalError as exc:
        common.show_error(exc)
        st.stop()
    state.CHECKIN_NOTICE.set(f"{done.visitor_name} 已签到（{done.slot_label}，预约编号 {done.code}）。")
    st.rerun()
