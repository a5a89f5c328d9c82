"""Fixed vocabularies: kinds of work, counties, cities, languages and dialects, service
modes, free-training groups.

Each term has one id, shared by every screen, button, filter and search synonym, and
households and workers use the same ones. A term has:

- `label`: its name shown to people, a catalog message (English source text, translated
  in `locales/`: `ctx._(term.label)`), so every language reads it in its own words;
- `names`: how data files and staff write it (Simplified, Traditional, with or without
  the administrative suffix): an imported `track: 月嫂/母婴护理` or `county: 電白區` is
  recognised as that term (`Vocabulary.of_name`);
- `typed`: what people type for it besides its names and labels: colloquial, Cantonese
  and English words, pinyin (`yuesao`, `陪月`, `confinement nanny`). Search reads these
  as synonyms of the term.

The kinds of work follow the national standard contract's categories (家政服务合同: general
housework, infant care, mother-and-newborn care, elder care, patient companion, hourly
service, home cooking) plus the two add-on skills taught as courses (催乳师, 小儿推拿);
see ../shared/domain.md. Counties are Maoming's five, in the order of the city's own
listing (茂南, 电白, 高州, 化州, 信宜); that order is used on every screen.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Marks a catalog message for extraction; translated where it is shown."""
    return message


@dataclass(frozen=True)
class Term:
    """One term of a vocabulary (see the module's docstring)."""

    id: str
    label: str
    names: tuple[str, ...]
    typed: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The canonical name in data files (Simplified Chinese)."""
        return self.names[0]


_SEPARATORS = re.compile(r"[\s/／、,，·・()（）\-]+")


def plain(text: str) -> str:
    """A name as compared: width forms unified, case folded, separators dropped."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Vocabulary:
    """An ordered set of terms, looked up by id or by any of their names."""

    kind: str
    terms: tuple[Term, ...]
    _by_id: dict[str, Term] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, Term] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {t.id: t for t in self.terms})
        by_name: dict[str, Term] = {}
        for term in self.terms:
            for name in (*term.names, term.id, term.label):
                by_name.setdefault(plain(name), term)
        object.__setattr__(self, "_by_name", by_name)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def get(self, term_id: str) -> Term | None:
        return self._by_id.get(term_id)

    def of_name(self, name: str | None) -> Term | None:
        """The term a data file's or a person's name stands for (`电白`, `電白區`,
        `dianbai`, `Dianbai`), or None."""
        return self._by_name.get(plain(name or "")) if name else None

    def order(self, name: str) -> tuple[int, str]:
        """A sort key putting names in this vocabulary's order, unknown ones last."""
        term = self.of_name(name)
        return (self.terms.index(term), "") if term else (len(self.terms), name)


KINDS_OF_WORK = Vocabulary(
    "kind_of_work",
    (
        Term(
            "maternity",
            N_("Maternity nurse (yuesao)"),
            ("月嫂/母婴护理", "月嫂", "母婴护理", "母婴护理员", "母婴护理师", "月嫂／母嬰護理"),
            (
                "yuesao",
                "陪月",
                "陪月员",
                "陪月員",
                "maternity",
                "confinement nanny",
                "产后护理",
                "產後護理",
                "母婴",
                "母嬰",
                "月子",
                "坐月子",
                "postnatal",
                "postpartum",
            ),
        ),
        Term(
            "infant",
            N_("Infant carer"),
            ("育婴员", "育婴师", "育婴", "育嬰員", "育嬰師"),
            (
                "yuyingyuan",
                "yuyingshi",
                "infant care",
                "baby carer",
                "带小孩",
                "带宝宝",
                "湊BB",
                "育儿嫂",
                "育兒嫂",
                "育儿",
                "育兒",
                "带娃",
                "帶娃",
                "湊仔",
                "babysitter",
                "childcare",
            ),
        ),
        Term(
            "housekeeping",
            N_("Nanny / housekeeper"),
            ("家政服务员/保姆", "保姆", "家政服务员", "家政", "家務助理／保姆", "家務助理"),
            (
                "baomu",
                "nanny",
                "housekeeper",
                "domestic helper",
                "工人姐姐",
                "住家保姆",
                "家务",
                "家務",
                "家务助理",
                "housekeeping",
                "maid",
                "helper",
            ),
        ),
        Term(
            "elder",
            N_("Elder carer"),
            ("养老护理员", "养老护理", "护老员", "護老員", "養老護理員"),
            (
                "yanglao",
                "elder care",
                "elderly care",
                "照顾老人",
                "照顧老人",
                "老人护理",
                "老人",
                "长者",
                "長者",
                "护老",
                "護老",
                "养老院",
                "養老院",
                "elderly",
                "old people",
                "aged care",
            ),
        ),
        Term(
            "patient",
            N_("Patient companion"),
            ("病患陪护", "陪护", "病人陪护", "病人陪護", "病患陪護"),
            (
                "peihu",
                "patient care",
                "hospital companion",
                "护工",
                "護工",
                "医院陪护",
                "照顾病人",
                "照顧病人",
                "陪诊",
                "陪診",
                "陪床",
                "病人护理",
            ),
        ),
        Term(
            "hourly",
            N_("Hourly cleaner"),
            ("钟点工", "鐘點工", "钟点", "计时服务"),
            (
                "zhongdiangong",
                "hourly",
                "part-time cleaner",
                "鐘點",
                "保洁",
                "保潔",
                "清洁",
                "清潔",
                "打扫",
                "打掃",
                "cleaner",
                "cleaning",
            ),
        ),
        Term(
            "cooking",
            N_("Home cook"),
            ("家庭烹饪", "家庭烹飪", "家庭厨师", "烹饪"),
            ("cook", "cooking", "做饭", "煮飯", "煮饭", "做菜", "厨师", "廚師", "chef"),
        ),
        Term(
            "lactation",
            N_("Lactation consultant"),
            ("催乳师", "催乳師", "催乳"),
            (
                "cuirushi",
                "lactation",
                "breastfeeding",
                "通乳",
                "开奶",
                "開奶",
                "通奶",
                "催奶",
                "下奶",
            ),
        ),
        Term(
            "infant_massage",
            N_("Infant massage"),
            ("小儿推拿", "小兒推拿", "推拿"),
            (
                "tuina",
                "baby massage",
                "infant massage",
                "婴儿推拿",
                "嬰兒推拿",
                "小儿按摩",
                "小兒按摩",
            ),
        ),
    ),
)

COUNTIES = Vocabulary(
    "county",
    (
        Term("maonan", N_("Maonan"), ("茂南", "茂南区", "茂南區"), ("maonan",)),
        Term("dianbai", N_("Dianbai"), ("电白", "电白区", "電白", "電白區"), ("dianbai",)),
        Term("gaozhou", N_("Gaozhou"), ("高州", "高州市"), ("gaozhou",)),
        Term("huazhou", N_("Huazhou"), ("化州", "化州市"), ("huazhou",)),
        Term("xinyi", N_("Xinyi"), ("信宜", "信宜市"), ("xinyi",)),
    ),
)

# where people go to work: Maoming and the Greater Bay Area, and the partner regions
CITIES = Vocabulary(
    "city",
    (
        Term("maoming", N_("Maoming"), ("茂名", "茂名市"), ("maoming",)),
        Term("guangzhou", N_("Guangzhou"), ("广州", "廣州", "广州市"), ("guangzhou", "canton")),
        Term("shenzhen", N_("Shenzhen"), ("深圳", "深圳市"), ("shenzhen",)),
        Term("dongguan", N_("Dongguan"), ("东莞", "東莞", "东莞市"), ("dongguan",)),
        Term("foshan", N_("Foshan"), ("佛山", "佛山市"), ("foshan",)),
        Term("zhuhai", N_("Zhuhai"), ("珠海", "珠海市", "横琴", "橫琴"), ("zhuhai", "hengqin")),
        Term("zhongshan", N_("Zhongshan"), ("中山", "中山市"), ("zhongshan",)),
        Term("jiangmen", N_("Jiangmen"), ("江门", "江門", "江门市"), ("jiangmen",)),
        Term("huizhou", N_("Huizhou"), ("惠州", "惠州市"), ("huizhou",)),
        Term("zhaoqing", N_("Zhaoqing"), ("肇庆", "肇慶", "肇庆市"), ("zhaoqing",)),
        Term("hong_kong", N_("Hong Kong"), ("香港",), ("hongkong", "hk", "heunggong")),
        Term("macau", N_("Macau"), ("澳门", "澳門"), ("macao", "aomen", "ou mun")),
        Term("nanning", N_("Nanning"), ("南宁", "南寧", "南宁市"), ("nanning",)),
        Term("laibin", N_("Laibin"), ("来宾", "來賓", "来宾市"), ("laibin",)),
    ),
)

#: the Greater Bay Area's cities among `CITIES` (the programme's statistics group
#: placements as Maoming, these, and elsewhere): the nine Guangdong cities of the
#: Outline Development Plan for the Guangdong-Hong Kong-Macao Greater Bay Area (2019),
#: Hong Kong and Macau
GREATER_BAY_AREA = frozenset(
    {
        "guangzhou",
        "shenzhen",
        "dongguan",
        "foshan",
        "zhuhai",
        "zhongshan",
        "jiangmen",
        "huizhou",
        "zhaoqing",
        "hong_kong",
        "macau",
    }
)

LANGUAGES = Vocabulary(
    "language",
    (
        Term("mandarin", N_("Mandarin"), ("普通话", "普通話", "国语", "國語"), ("putonghua",)),
        Term("cantonese", N_("Cantonese"), ("粤语", "粵語", "广东话", "廣東話", "白话", "白話")),
        Term("hakka", N_("Hakka"), ("客家话", "客家話", "客家"), ("kejia",)),
        Term("leizhou", N_("Leizhou"), ("雷州话", "雷州話", "黎话", "黎話"), ("leizhou",)),
        Term("dianbai_dialect", N_("Dianbai dialect"), ("电白话", "電白話"), ()),
        Term("english", N_("English"), ("英语", "英語", "英文"), ("english",)),
    ),
)

MODES = Vocabulary(
    "mode",
    (
        Term("live_in", N_("Live-in"), ("全日住家型", "住家", "住家型"), ("live in", "zhujia")),
        Term("day", N_("Day care"), ("日间照料型", "日间", "白班", "日間"), ("day", "daytime")),
        Term(
            "hourly", N_("Hourly"), ("计时服务型", "钟点", "計時", "鐘點"), ("hourly", "part time")
        ),
    ),
)

FREE_GROUPS = Vocabulary(
    "free_group",
    (
        Term("rural_women", N_("rural women"), ("农村妇女", "農村婦女", "农村女性")),
        Term("unemployed", N_("unemployed people"), ("失业人员", "失業人員", "失业", "下岗")),
        Term(
            "poor_households",
            N_("registered poor households"),
            ("建档立卡贫困户", "贫困户", "貧困戶", "低收入家庭"),
        ),
    ),
)

#: the kinds of work that are add-on skills on a worker's profile, not kinds of work
#: of their own (催乳师, 小儿推拿: ../shared/domain.md)
ADD_ON_SKILLS = ("lactation", "infant_massage")

#: certificates a worker may hold (../shared/domain.md: a 月嫂 typically holds the
#: 健康证 and a 育婴员/母婴护理 certificate; optional 催乳师, 小儿推拿)
CERTIFICATES = Vocabulary(
    "certificate",
    (
        Term(
            "maternity_nurse",
            N_("Maternity nurse certificate"),
            ("母婴护理员证", "母嬰護理員證", "母婴护理师证", "母婴护理", "月嫂证", "月嫂證"),
            ("yuesao", "muying"),
        ),
        Term(
            "infant_carer",
            N_("Infant carer certificate"),
            ("育婴员证", "育嬰員證", "育婴师证", "育嬰師證", "育婴员", "育婴师"),
            ("yuying",),
        ),
        Term(
            "elder_carer",
            N_("Elder carer certificate"),
            ("养老护理员证", "養老護理員證", "养老护理员", "养老护理"),
            ("yanglao",),
        ),
        Term(
            "housekeeper",
            N_("Domestic service certificate"),
            ("家政服务员证", "家政服務員證", "家政服务员", "保姆证"),
            ("jiazheng", "baomu"),
        ),
        Term(
            "lactation",
            N_("Lactation consultant certificate"),
            ("催乳师证", "催乳師證", "催乳师", "催乳"),
            ("cuiru",),
        ),
        Term(
            "infant_massage",
            N_("Infant massage certificate"),
            ("小儿推拿证", "小兒推拿證", "小儿推拿", "推拿"),
            ("tuina",),
        ),
        Term(
            "health",
            N_("Health certificate"),
            ("健康证", "健康證", "健康证明"),
            ("jiankang", "health"),
        ),
        Term(
            "cook",
            N_("Chinese cook certificate"),
            ("中式烹调师证", "中式烹調師證", "烹调师", "厨师证", "廚師證"),
            ("pengtiao", "chef"),
        ),
        Term("other", N_("Another certificate"), ("其他证书", "其他證書", "其他"), ("other",)),
    ),
)

#: what staff check, each recorded separately (../shared/domain.md: the 居家上门服务证's
#: identity check, health examination, criminal-record check, training, certificates)
CHECKS = Vocabulary(
    "check",
    (
        Term("identity", N_("Identity"), ("身份核验", "身份", "身份證"), ("shenfen", "id")),
        Term("health", N_("Health examination"), ("健康体检", "体检", "體檢"), ("tijian",)),
        Term(
            "criminal",
            N_("Criminal-record check"),
            ("无犯罪记录", "無犯罪記錄", "犯罪记录"),
            ("fanzui", "police"),
        ),
        Term("certificate", N_("Certificate"), ("证书", "證書"), ("zhengshu",)),
        Term("training", N_("Training"), ("培训", "培訓"), ("peixun",)),
    ),
)

ALL = (KINDS_OF_WORK, COUNTIES, CITIES, LANGUAGES, MODES, FREE_GROUPS, CERTIFICATES, CHECKS)
