"""Words that mean someone may be in danger (issue 11, widened in issue 13): a problem
report, a question for a person, or text typed anywhere that holds one is urgent. Staff
are told at once and she is given the emergency line. Kept apart so that every flow that
reads text can ask (`urgent`) without importing another flow.

The list errs towards urgent: a false alarm costs staff a look, a missed one costs far
more. Words of ordinary questions (办护照, "help me find") are not on it.
"""

from __future__ import annotations

import re

#: words that make a report urgent for staff: danger, violence, abuse, threats, police
_DANGER_CHINESE = (
    "打人",
    "危险",
    "危險",
    "虐待",
    "报警",
    "報警",
    "家暴",
    "暴力",
    "性骚扰",
    "性騷擾",
    "非礼",
    "非禮",
    "强奸",
    "強姦",
    "威胁",
    "威脅",
    "恐吓",
    "恐嚇",
    "受伤",
    "受傷",
    "救命",
    "救我",
    "打了我",
    "扇我",
    "踢我",
    "掐我",
    "掐住",
    "摸我",
    "性侵",
    "强暴",
    "強暴",
    "自杀",
    "自殺",
    "不想活",
    "唔想活",
    "想死",
    "拿刀",
    "持刀",
    "关在",
    "關在",
    "锁在",
    "鎖在",
    "锁住我",
    "鎖住我",
    "囚禁",
    "不让我走",
    "不讓我走",
    "不准我走",
    "唔俾我走",
    "唔畀我走",
    "唔准我走",
    "不让我出去",
    "不讓我出去",
    "唔俾我出去",
    "扣了我的身份证",
    "扣我的身份证",
    "扣身份证",
    "扣咗我張身份證",
    "扣我身份證",
    "扣身份證",
    "扣了我的护照",
    "扣护照",
    "扣護照",
    "收了我的身份证",
    "拿走我的身份证",
    "跟踪我",
    "跟蹤我",
    "虐打",
    "打咗我",
    "杀了我",
    "杀我",
    "殺我",
    "跳楼",
    "跳樓",
    "活不下去",
    "喝农药",
    "喝農藥",
    "动手动脚",
    "動手動腳",
    "对我动手",
    "對我動手",
    "强迫我",
    "強迫我",
    "困住",
    "困在",
    "欺负我",
    "欺負我",
    "扣了我的证件",
    "扣我的证件",
    "扣證件",
    "唔想做人",
    "🆘",
    "打我呀",
    "害怕",
    "好惊",
    "好驚",
)
#: "被老板打了", "俾老闆打咗", "被他锁在房里": being done to, by anyone
_DONE_TO = re.compile(
    r"打我(?!电话|電話|手机|手機|的电话|的電話|的手|微信|号码|號碼)|"
    r"(?<![号號户戶群])(?:被|俾|畀|给|給)[^，。,.!?！？]{0,6}?"
    r"(?:打(?!电|電|工|扫|掃|针|針|卡|听|聽|算|开|開|印|字|包|车|車|理|折|招呼|个|個|一|下|"
    r"过|過|钱|錢|款|疫苗|胰|嗝|回)"
    r"|踢(?!出)|掐|锁|鎖|关(?!心|注|于|係|系|闭|閉)|關(?!心|注|於|係|閉)|摸|虐|强奸|強姦|性侵|"
    r"威胁|威脅)"
)
_DANGER_ENGLISH = re.compile(
    r"\b(?:hit (?:me|her)|hits (?:me|her)|hitting (?:me|her)|beat (?:me|her)|beats (?:me|her)|"
    r"beaten|danger(?!ous work)|abuse[sd]?|abusing|call(?:ed)? (?:the )?police|assault(?:ed)?|"
    r"threat(?:s|en|ens|ened)?|harass(?:ed|ment)?|hurt(?:s|ing)? (?:me|her)|"
    r"(?:am|i'm|got|was|been) hurt|injured|rape[sd]?|violen(?:t|ce)|slap(?:s|ped)?|"
    r"kick(?:s|ed)? me|punch(?:es|ed)? me|push(?:es|ed)? me|chok(?:e|ed|ing)|strangl\w*|"
    r"suicid\w*|kill (?:myself|me)|want to die|(?:am|i'm|so) (?:scared|afraid)|"
    r"afraid of (?:him|her|my)|trapped|can'?t leave|forced me|(?:with|has|pulled) a knife|"
    r"knife (?:at|to)|gun|locked (?:me )?in|lock(?:s|ed)? me|won'?t let me (?:leave|go|out)|"
    r"took my (?:passport|id)|grop\w*|touch(?:ed|es)? me|sexual\w*|sos)\b|"
    r"(?:打|拨|撥|call|dial|报警|報警)\s*(?:110|999)(?![0-9])",
    re.IGNORECASE,
)


def urgent(text: str) -> bool:
    """Whether a text mentions danger, violence, abuse, being held or hurt, taking her
    own life, or the police (a report, a question for a person, text typed anywhere)."""
    return (
        any(word in text for word in _DANGER_CHINESE)
        or bool(_DONE_TO.search(text))
        or bool(_DANGER_ENGLISH.search(text))
    )
