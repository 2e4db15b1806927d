"""Word lists for the demo catalog: archives, people, places, titles and summary templates.

Plain data only; portal.catalog.demo turns it into records. Place names are real towns of the
districts each archive serves; archive addresses and phone numbers are invented for the demo."""
from __future__ import annotations

from typing import NamedTuple


class DemoArchive(NamedTuple):
    code: str
    name: str
    region: str
    address: str
    phone: str
    short: str  # how local units are prefixed: 南宁市糖厂, 宜州区第一中学
    weight: int  # city archives hold more than district ones
    towns: tuple[str, ...]
    streets: tuple[str, ...]


HOURS = "周一至周五 8:30–12:00，14:30–17:30（法定节假日除外）"

ARCHIVES: tuple[DemoArchive, ...] = (
    DemoArchive("450100", "南宁市档案馆", "南宁市", "南宁市青秀区云景路 18 号", "0771-5512345", "南宁市", 4,
                ("青秀区长塘镇", "青秀区伶俐镇", "兴宁区三塘镇", "兴宁区五塘镇", "江南区吴圩镇", "江南区苏圩镇",
                 "西乡塘区坛洛镇", "西乡塘区金陵镇", "西乡塘区双定镇", "良庆区大塘镇", "良庆区那马镇", "邕宁区蒲庙镇"),
                ("青秀区新竹街道", "青秀区中山街道", "兴宁区民生街道", "兴宁区朝阳街道", "江南区福建园街道",
                 "西乡塘区北湖街道", "西乡塘区衡阳街道", "西乡塘区华强街道")),
    DemoArchive("450110", "南宁市武鸣区档案馆", "南宁市", "南宁市武鸣区城厢镇灵源路 36 号", "0771-6221345", "武鸣区", 2,
                ("城厢镇", "太平镇", "双桥镇", "宁武镇", "锣圩镇", "仙湖镇", "府城镇", "陆斡镇", "两江镇", "罗波镇",
                 "灵马镇", "甘圩镇", "马头镇"),
                ("城厢镇标营社区", "城厢镇新兴社区", "城厢镇永宁社区")),
    DemoArchive("450200", "柳州市档案馆", "柳州市", "柳州市城中区三中路 22 号", "0772-2823456", "柳州市", 4,
                ("柳北区沙塘镇", "柳北区长塘镇", "柳南区太阳村镇", "柳南区洛满镇", "鱼峰区雒容镇", "鱼峰区洛埠镇"),
                ("城中区城中街道", "城中区公园街道", "鱼峰区天马街道", "鱼峰区驾鹤街道", "柳南区柳南街道",
                 "柳南区河西街道", "柳北区解放街道", "柳北区雀儿山街道")),
    DemoArchive("450206", "柳州市柳江区档案馆", "柳州市", "柳州市柳江区拉堡镇柳堡路 105 号", "0772-7212345", "柳江区", 2,
                ("拉堡镇", "里雍镇", "百朋镇", "成团镇", "三都镇", "里高镇", "进德镇", "穿山镇", "土博镇"),
                ("拉堡镇柳堡社区", "拉堡镇新兴社区")),
    DemoArchive("451200", "河池市档案馆", "河池市", "河池市金城江区新建路 1 号", "0778-2281234", "河池市", 3,
                ("南丹县车河镇", "天峨县六排镇", "东兰县武篆镇", "巴马瑶族自治县甲篆镇", "都安瑶族自治县安阳镇",
                 "罗城仫佬族自治县东门镇", "环江毛南族自治县思恩镇", "凤山县凤城镇", "大化瑶族自治县大化镇"),
                ("金城江区金城江街道", "金城江区东江镇")),
    DemoArchive("451202", "河池市金城江区档案馆", "河池市", "河池市金城江区金城中路 88 号", "0778-2212345", "金城江区", 2,
                ("东江镇", "五圩镇", "六甲镇", "拔贡镇", "九圩镇", "河池镇", "保平乡", "侧岭乡", "长老乡", "白土乡"),
                ("金城江街道新建社区", "金城江街道南新社区", "金城江街道城北社区")),
    DemoArchive("451203", "河池市宜州区档案馆", "河池市", "河池市宜州区庆远镇城西路 56 号", "0778-3212345", "宜州区", 2,
                ("庆远镇", "三岔镇", "洛西镇", "怀远镇", "德胜镇", "石别镇", "北山镇", "刘三姐乡", "祥贝乡", "屏南乡",
                 "福龙瑶族乡", "北牙瑶族乡", "安马乡", "龙头乡"),
                ("庆远镇城东社区", "庆远镇城西社区", "庆远镇城南社区")),
)

# Zhuang-style village names (那 field, 板 village, 弄 valley, 拉 below, 岜 rock) as found across Guangxi.
VILLAGES = ("那坡", "板劳", "弄桥", "拉浪", "坡月", "那良", "板烈", "六合", "岜马", "那桑", "古立", "龙江", "下坳",
            "平安", "新和", "加贵", "拉烈", "弄京", "板坝", "那院", "百旺", "同乐", "大洞", "石门", "长洲", "九龙",
            "江口", "中和", "东风", "那怀")

# (surname, weight): the common surnames of Guangxi, plus a few two-character ones.
SURNAMES = (("黄", 10), ("韦", 8), ("覃", 6), ("李", 6), ("梁", 5), ("陈", 5), ("莫", 4), ("王", 4), ("张", 4),
            ("刘", 4), ("杨", 4), ("罗", 4), ("蓝", 3), ("陆", 3), ("廖", 3), ("蒙", 3), ("潘", 3), ("吴", 3),
            ("卢", 3), ("谢", 2), ("周", 2), ("唐", 2), ("农", 2), ("赵", 2), ("韩", 1), ("欧阳", 1), ("司马", 1),
            ("上官", 1))

# Given names by sex and by whether the person was born before 1970: fashions changed.
GIVEN_NAMES = {
    ("男", True): ("建国", "国庆", "志强", "德明", "德胜", "永福", "有才", "文华", "明光", "保国", "振华", "卫东",
                  "红军", "金山", "桂生", "树林", "世昌", "光明", "家富", "荣", "强", "勇", "军", "斌", "忠", "福"),
    ("女", True): ("秀英", "桂兰", "玉梅", "桂英", "秀珍", "凤英", "玉兰", "翠花", "美兰", "丽华", "春梅", "月娥",
                  "桂芳", "淑珍", "金凤", "秀兰", "红梅", "芳", "英", "兰", "萍", "霞", "珍"),
    ("男", False): ("伟", "杰", "涛", "鹏", "浩", "磊", "海波", "志明", "俊杰", "宇航", "子豪", "浩然", "家豪",
                   "文博", "晓东", "建军", "永健", "振宇", "明杰", "一鸣"),
    ("女", False): ("丽", "静", "婷", "燕", "敏", "晓燕", "丽娟", "海燕", "雪梅", "欣怡", "子涵", "雨萱", "诗琪",
                   "佳怡", "思雨", "梦瑶", "春燕", "艳芳", "小红", "丽萍"),
}

UNITS = ("糖厂", "机械厂", "水泥厂", "化肥厂", "纺织厂", "供销合作社", "运输公司", "食品公司", "印刷厂", "百货公司",
         "建筑工程公司", "农机厂", "人民医院", "粮食局", "电业局")
SCHOOLS = ("第一中学", "第二中学", "第三中学", "民族中学", "高级中学")  # prefixed with the district
PRIMARY_SCHOOLS = ("中心小学", "实验小学", "第一小学")  # prefixed with the town
TREES = ("杉木", "马尾松", "桉树", "八角", "油茶", "毛竹")


class Title(NamedTuple):
    text: str
    first_year: int
    last_year: int
    summaries: tuple[str, ...]  # str.format templates; fields are filled by portal.catalog.demo
    ages: tuple[int, int] | None = None  # when the title needs a narrower age than its category


class Category(NamedTuple):
    weight: int
    ages: tuple[int, int]  # the subject's age at the event
    urban: bool  # place is a street (pension, housing) rather than a village
    titles: tuple[Title, ...]


CATEGORY_DATA: dict[str, Category] = {
    "marriage": Category(14, (20, 35), False, (
        Title("结婚登记审查处理表", 1950, 2024, (
            "{name}与配偶申请结婚登记，经审查双方均符合法定结婚条件，准予登记，发给结婚证。",
            "{name}，{sex}，{age}岁，住{place}。与配偶自愿结婚，经审查准予登记。")),
        Title("结婚登记申请书", 1950, 2024, ("{name}与配偶共同提出结婚申请，附户籍证明和婚姻状况证明。",)),
        Title("离婚登记审查处理表", 1950, 2024, (
            "{name}与配偶自愿离婚，对子女抚养和财产处理已达成协议。经审查准予登记。",)),
        Title("补发结婚证审批表", 1986, 2024, ("{name}因结婚证遗失申请补领，经核对原始婚姻登记档案，准予补发。",)),
    )),
    "land_contract": Category(12, (25, 65), False, (
        Title("农村土地承包合同书", 1982, 1997, ("{name}户承包{place}集体耕地{mu}亩，承包期十五年，双方签订承包合同。",)),
        Title("土地承包经营权证登记簿", 1998, 2024, (
            "登记{name}户承包地{plots}块，面积{mu}亩，承包期三十年。已颁发土地承包经营权证。",)),
        Title("土地承包经营权确权登记表", 2013, 2024, (
            "{name}户承包地经实地测量确认面积{mu}亩，四至清楚，经村民小组公示无异议。",)),
        Title("家庭承包土地台账", 1982, 2024, ("{place}{name}户家庭承包耕地{mu}亩，家庭人口{members}人。",)),
    )),
    "social_insurance": Category(14, (25, 60), True, (
        Title("城镇职工基本养老保险缴费记录", 1986, 2024, (
            "{name}在{unit}参加城镇职工基本养老保险，记载{year}年度缴费基数和个人账户储存额。",)),
        Title("企业职工退休审批表", 1986, 2024, (
            "{name}，{sex}，{unit}职工，达到法定退休年龄，核定连续工龄{seniority}年，批准退休。",), (50, 60)),
        Title("养老保险关系转移单", 1992, 2024, ("{name}因工作调动转移养老保险关系，累计缴费{months}个月。",)),
        Title("养老保险待遇核定表", 1992, 2024, ("核定{name}每月基本养老金{pension}元，按月发放。",), (50, 75)),
    )),
    "medical_insurance": Category(8, (20, 75), True, (
        Title("城镇职工基本医疗保险参保登记表", 1998, 2024, ("{name}由{unit}办理城镇职工基本医疗保险参保登记。",)),
        Title("新型农村合作医疗参合登记表", 2003, 2016, ("{name}户家庭成员{members}人参加新型农村合作医疗，已缴纳参合费。",)),
        Title("城乡居民医疗保险参保缴费记录", 2017, 2024, ("{name}参加城乡居民基本医疗保险，记载{year}年度个人缴费情况。",)),
        Title("医疗保险费用报销审批单", 1998, 2024, ("{name}住院医疗费用{amount}元，经审核按规定报销。",)),
    )),
    "subsistence": Category(8, (30, 85), False, (
        Title("最低生活保障审批表", 1997, 2024, (
            "{name}家庭{members}人，人均月收入低于当地最低生活保障标准。经入户调查和张榜公示，批准纳入低保。",)),
        Title("最低生活保障家庭收入核查表", 1997, 2024, ("核查{name}家庭成员收入和财产情况，家庭人均月收入{income}元。",)),
        Title("低保金发放花名册", 1997, 2024, ("记载{name}户{year}年度每月领取低保金{allowance}元。",)),
        Title("特困人员救助供养审批表", 2014, 2024, (
            "{name}无劳动能力、无生活来源、无法定赡养义务人，经审核批准纳入特困人员救助供养。",), (60, 90)),
    )),
    "land_acquisition": Category(7, (25, 70), False, (
        Title("征地拆迁补偿安置协议书", 1985, 2024, (
            "因建设需要征收{name}户位于{place}的集体土地{mu}亩，约定补偿安置费用{amount}元。",)),
        Title("房屋拆迁补偿协议", 1985, 2024, (
            "{name}户位于{place}的房屋建筑面积{sqm}平方米被列入拆迁范围。双方就补偿金额和安置方式达成协议。",)),
        Title("征收土地补偿费发放清册", 1985, 2024, ("记载{name}户领取土地补偿费和安置补助费共计{amount}元。",)),
        Title("被征地农民安置审批表", 2000, 2024, ("{name}被认定为被征地农民，批准纳入养老保障安置。",), (45, 70)),
    )),
    "housing": Category(6, (25, 60), True, (
        Title("公有住房出售审批表", 1988, 2008, (
            "{unit}将公有住房一套（建筑面积{sqm}平方米）按房改政策出售给职工{name}，经审批同意。",)),
        Title("职工购买公有住房申请表", 1988, 2008, ("{name}，{unit}职工，申请按成本价购买现住公有住房。",)),
        Title("房改售房合同", 1992, 2008, ("{name}与{unit}签订房改售房合同，购买住房建筑面积{sqm}平方米，房款{amount}元。",)),
        Title("住房公积金缴存登记表", 1992, 2024, ("{name}在{unit}建立住房公积金账户，登记缴存基数和缴存比例。",)),
    )),
    "education": Category(12, (7, 18), False, (
        Title("学生学籍卡", 1950, 2024, ("{name}，{sex}，{age}岁，{school}学生。记载入学时间、家庭成员和各学期成绩。",)),
        Title("学生登记表", 1950, 2024, ("{name}，{school}学生，家住{place}，登记家庭情况和学习经历。",)),
        Title("毕业生登记表", 1950, 2024, ("{name}于{year}年在{school}毕业，记载在校表现和毕业鉴定。",), (12, 19)),
        Title("高中毕业证书存根", 1960, 2024, ("{school}颁发给{name}的高中毕业证书存根。",), (17, 20)),
    )),
    "employment": Category(9, (16, 30), False, (
        Title("招工登记表", 1950, 2000, ("{name}，{sex}，{age}岁，住{place}，经招工考核被{unit}录用为工人。",)),
        Title("职工录用审批表", 1950, 2000, ("{unit}录用{name}为正式职工，经劳动部门审批同意。",)),
        Title("知识青年招工审批表", 1968, 1980, ("下乡知识青年{name}经推荐、考核，被招收到{unit}工作。",), (18, 28)),
        Title("劳动合同制工人招收登记表", 1986, 2000, ("{name}被{unit}招收为劳动合同制工人，合同期{contract}年。",)),
    )),
    "veterans": Category(5, (20, 35), False, (
        Title("退伍军人安置介绍信", 1950, 2024, ("{name}服役期满退出现役，回{place}安置，请接收并妥善安排工作。",)),
        Title("复员军人登记表", 1950, 1990, ("{name}复员回{place}，登记服役经历和家庭情况。",)),
        Title("退役士兵安置审批表", 1980, 2024, ("{name}退役后经审核安排到{unit}工作。",)),
        Title("转业军人安置通知书", 1950, 2024, ("{name}转业到地方工作，分配到{unit}。",)),
    )),
    "forest_rights": Category(5, (25, 70), False, (
        Title("林权证存根", 1981, 2024, ("{name}户在{place}有林地{mu}亩，主要树种为{tree}，已颁发林权证。",)),
        Title("山林权属登记表", 1981, 1990, ("经林业“三定”划定{name}户自留山{mu}亩，四至界线明确。",)),
        Title("林地承包经营合同", 1983, 2024, ("{name}户承包集体林地{mu}亩，承包期{contract}年。",)),
        Title("集体林权制度改革林地确权表", 2006, 2012, ("{name}户林地{mu}亩经勘界确权，主要树种为{tree}。",)),
    )),
}

# Fonds (全宗) that hold each category: the agency that created the records.
AGENCY_OF = {"marriage": 0, "subsistence": 0, "veterans": 0, "social_insurance": 1, "employment": 1,
             "medical_insurance": 2, "land_contract": 3, "forest_rights": 4, "land_acquisition": 5,
             "housing": 6, "education": 7}

PASSWORD = "Archive2024!"
ADMIN = ("admin@demo.cn", "覃志强")
# (archive code, clerk name, reviewer name)
STAFF = (("450100", "黄丽娟", "梁志明"), ("450110", "韦春燕", "覃建军"), ("450200", "刘海燕", "莫振华"),
         ("450206", "蓝小红", "潘永健"), ("451200", "陆晓燕", "蒙德明"), ("451202", "罗丽萍", "卢俊杰"),
         ("451203", "廖艳芳", "谢文博"))
# (archive code, archive admin name): two archives have their own administrator in the demo.
ARCHIVE_ADMINS = (("451200", "韦国栋"), ("451202", "黄美玲"))

CITIZEN_EMAIL = "citizen@demo.cn"
CITIZEN_NAME = "韦秀英"
CITIZEN_REGION, CITIZEN_BORN, CITIZEN_SEQ = "451202", "19470316", "062"  # even sequence: a woman
# Her life in the archives: (archive, category, title, year, month, day, access level).
CITIZEN_RECORDS = (
    ("451202", "education", "学生学籍卡", 1955, 9, 1, "open"),
    ("450200", "employment", "招工登记表", 1966, 4, 12, "restricted"),
    ("451202", "marriage", "结婚登记审查处理表", 1969, 11, 20, "open"),
    ("450200", "housing", "公有住房出售审批表", 1994, 6, 8, "restricted"),
    ("450200", "social_insurance", "企业职工退休审批表", 1997, 3, 16, "restricted"),
    ("451200", "subsistence", "最低生活保障审批表", 2012, 7, 3, "closed"),
)
