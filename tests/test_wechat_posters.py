"""WeChat staff get a poster QR code for a course or a fair: a permanent parameter QR
code made by qrcode/create, over real HTTP against a double of api.weixin.qq.com."""

from __future__ import annotations

from tests.catalogue import course, load
from tests.wechat_player import WeChatPlayer, running_wechat

ADMIN_OPENID = "oADMIN07"
STAFF = {"admin_ids": frozenset({f"wx:{ADMIN_OPENID}"})}


async def _staff_asks_for_the_code(url: str, course_id: int) -> WeChatPlayer:
    staff = WeChatPlayer(url, ADMIN_OPENID, mode="aes")
    await staff.say("/start")  # staff: their menu at once
    assert "工作人员菜单" in staff.text
    await staff.say(f"/start course_{course_id}")
    await staff.tap("链接和二维码")
    return staff


async def test_staff_get_a_parameter_qr_code_that_opens_the_course(db_path):
    async with running_wechat(db_path, mode="safe", **STAFF) as (url, app, api):
        ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        staff = await _staff_asks_for_the_code(url, ids["ys1"])
        scene = f"course_{ids['ys1']}"
        assert api.qrcodes == [
            {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        ]
        link = f"https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQ%2B{scene}%2F%3D"
        assert link in staff.text  # the ticket URL-encoded, as WeChat asks
        assert "t.me" not in staff.text  # no Telegram link on WeChat
        # the same page again: the code is made once
        await staff.tap("链接和二维码")
        assert len(api.qrcodes) == 1 and link in staff.text


async def test_when_wechat_refuses_the_code_staff_are_told_how_to_make_it(db_path):
    async with running_wechat(db_path, mode="safe", **STAFF) as (url, app, api):
        ids = await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        api.qrcode_errcodes = [48001]  # the account may not make codes
        staff = await _staff_asks_for_the_code(url, ids["ys1"])
        assert "showqrcode" not in staff.text
        assert f"course_{ids['ys1']}" in staff.text  # the scene to type in the console
