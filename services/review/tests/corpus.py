"""A generated corpus of county IT projects with planted near-duplicates, for the duplicate check
(Art 12): the test measures its precision and recall on a small one, ``bench/duplicates.py`` on
10,000 projects with the lookup's p50.

Every project is a topic (智慧校园, 不动产登记 …) built for a particular place or body (a township,
a school, a hospital …; one project per topic and place) by a system of some kind, with three
functions of its topic (an object of the topic and an action: 统一身份认证核验).
Projects of one topic share many words, as real ones do, and are not duplicates. A planted
duplicate is another unit's (or a later year's) declaration of the same project, reworded: synonyms
for the common words, the functions reordered, one of them replaced, a phase or a qualifier added,
the summary's sentences in another order."""

import random
from dataclasses import dataclass

TOWNS = [
    "城关镇", "石门镇", "清溪镇", "龙泉镇", "白沙镇", "青山乡", "桃源乡", "柳河乡", "梅岭乡", "金田镇",
    "双江镇", "新塘乡", "云台乡", "凤凰镇", "长岭乡", "高桥镇", "太平镇", "永安乡", "福田镇", "东湖乡",
    "西山乡", "南岗镇", "北坪乡", "大洋镇", "小溪乡", "黄土镇", "红星乡", "建设乡", "五里镇", "三河镇",
]  # fmt: skip
PLACES = [
    "第一中学", "第二中学", "实验小学", "职业中专", "人民医院", "中医院", "妇幼保健院", "疾控中心",
    "工业园区", "高新区", "农业园", "物流园", "汽车站", "体育中心", "图书馆", "博物馆", "养老院",
    "水厂", "污水处理厂", "垃圾中转站", "供热站", "便民服务中心", "派出所", "消防站", "档案馆",
]  # fmt: skip
TOPICS = {
    "智慧校园": ["统一身份认证", "电子班牌", "家校互通", "课堂录播", "学生考勤", "校园安防", "成绩分析"],
    "不动产登记": ["网上申请", "登记簿查询", "抵押登记", "税费联办", "电子证照", "档案数字化", "预告登记"],
    "医保结算": ["异地就医", "跨省直接结算", "药品目录", "智能审核", "基金监管", "门诊统筹", "支付对账"],
    "视频监控": ["人脸识别", "车辆卡口", "高空瞭望", "智能分析", "存储扩容", "联网共享", "实时预警"],
    "网格化治理": ["事件上报", "网格员考核", "人口底数", "矛盾调解", "走访记录", "隐患排查", "分级流转"],
    "智慧停车": ["车位引导", "无感支付", "泊位检测", "反向寻车", "停车诱导屏", "月卡管理", "违停抓拍"],
    "河长制": ["河道巡查", "水质监测", "排污口监管", "问题督办", "一河一档", "无人机巡河", "考核评价"],
    "政务服务": ["一网通办", "综合受理", "好差评", "电子印章", "证照共享", "预约叫号", "帮办代办"],
    "应急指挥": ["预案管理", "物资储备", "值班值守", "融合通信", "灾情上报", "救援调度", "风险研判"],
    "智慧养老": ["健康档案", "紧急呼叫", "上门服务", "助餐点管理", "补贴发放", "老人定位", "服务评价"],
    "食品安全": ["追溯码", "快检数据", "明厨亮灶", "抽检计划", "许可审批", "信用分级", "投诉处置"],
    "智慧农业": ["土壤墒情", "病虫害测报", "水肥一体化", "农产品溯源", "农机调度", "气象预警", "产销对接"],
    "环境监测": ["空气质量", "噪声监测", "扬尘监控", "污染源在线", "数据发布", "超标报警", "执法联动"],
    "智慧医院": ["预约挂号", "电子病历", "检验互认", "远程会诊", "移动护理", "处方流转", "床位管理"],
    "公共资源交易": ["电子招标", "远程评标", "保证金管理", "专家抽取", "合同备案", "交易见证", "信用评价"],
    "智慧交通": ["信号优化", "公交到站", "客流统计", "路况发布", "治超检测", "出租车监管", "交通诱导"],
    "社会救助": ["低保审核", "临时救助", "特困供养", "入户核查", "资金发放", "动态监测", "信息比对"],
    "智慧消防": ["烟感报警", "消防水压", "电气火灾", "通道占用", "隐患整改", "微型消防站", "联网监测"],
    "税务服务": ["电子发票", "自助办税", "风险预警", "纳税信用", "社保费征收", "涉税咨询", "数据交换"],
    "档案数字化": ["档案扫描", "目录著录", "全文检索", "利用登记", "长期保存", "异地备份", "开放鉴定"],
}  # fmt: skip
ACTIONS = ["查询", "审批", "监测", "统计分析", "预警", "登记", "考核", "调度", "公示", "归档", "核验", "移动端"]
KINDS = ["管理平台", "信息系统", "服务平台", "综合平台", "监管系统", "数据中心", "指挥系统", "应用系统"]
PURPOSES = [
    "提升管理效率", "方便群众办事", "实现数据共享", "减少重复录入", "加强过程监管", "提高服务质量",
    "支撑科学决策", "降低运行成本", "消除信息孤岛", "规范业务流程", "强化风险防控", "改善群众体验",
]  # fmt: skip
SYNONYMS = [
    ("建设", "搭建"), ("管理平台", "管控系统"), ("信息系统", "业务系统"), ("服务平台", "服务系统"),
    ("实现", "提供"), ("提升", "提高"), ("整合", "汇聚"), ("项目", "工程"), ("全县", "全域"),
    ("功能", "模块"), ("对接", "联通"), ("覆盖", "延伸到"),
]  # fmt: skip
PHASES = ["（二期）", "升级改造", "扩容", "提升工程", "（续建）"]


@dataclass(frozen=True)
class Generated:
    project_id: str
    name: str
    summary: str
    unit: str


@dataclass(frozen=True)
class Corpus:
    projects: list[Generated]
    pairs: dict[str, str]  # planted duplicate → the project it duplicates


SUMMARIES = [
    "建设{where}{topic}{kind}，实现{f0}、{f1}和{f2}等功能。整合现有业务数据，对接县政务数据共享平台，{purpose}。",
    "围绕{where}{topic}业务，建设{kind}，包括{f0}、{f1}、{f2}三个子系统。项目覆盖全县相关单位，{purpose}。",
    "为{purpose}，在{where}部署{topic}{kind}，提供{f0}、{f1}以及{f2}服务，并与省市平台对接。",
]


def _bases(rng: random.Random, count: int) -> list[tuple[str, str, list[str], str, str, int]]:
    """``count`` projects, no two of one topic for the same place."""
    places = [town + place for town in TOWNS for place in [""] + PLACES]
    pairs = rng.sample([(topic, where) for topic in TOPICS for where in places], count)
    return [
        (where, topic, _functions(rng, topic, 3), rng.choice(KINDS), rng.choice(PURPOSES), rng.randrange(3))
        for topic, where in pairs
    ]


def _functions(rng: random.Random, topic: str, count: int) -> list[str]:
    """Functions of the topic: one of its objects and an action (统一身份认证 + 核验)."""
    objects = rng.sample(TOPICS[topic], count)
    return [thing + rng.choice(ACTIONS) for thing in objects]


def _texts(where: str, topic: str, functions: list[str], kind: str, purpose: str, template: int) -> tuple[str, str]:
    name = f"{where}{topic}{kind}建设项目"
    f0, f1, f2 = functions
    summary = SUMMARIES[template].format(where=where, topic=topic, kind=kind, f0=f0, f1=f1, f2=f2, purpose=purpose)
    return name, summary


def _reworded(rng: random.Random, where: str, topic: str, functions: list[str], kind: str, purpose: str, template: int):
    functions = functions[:]
    rng.shuffle(functions)
    functions[rng.randrange(3)] = _functions(rng, topic, 1)[0]
    name, summary = _texts(where, topic, functions, kind, rng.choice(PURPOSES), rng.randrange(3))
    name = name.replace("建设项目", rng.choice(PHASES) + "项目")
    sentences = [s for s in summary.split("。") if s]
    rng.shuffle(sentences)
    summary = "。".join(sentences) + "。"
    for plain, other in rng.sample(SYNONYMS, 4):
        summary = summary.replace(plain, other)
    return name, summary


def generate(size: int, planted: int, seed: int = 12) -> Corpus:
    """``size`` projects of which ``planted`` are reworded duplicates of others."""
    rng = random.Random(seed)
    units = [f"unit:u{n:02d}" for n in range(40)]
    projects: list[Generated] = []
    pairs: dict[str, str] = {}
    originals = set(rng.sample(range(size - planted), planted))
    bases = {}
    for n, base in enumerate(_bases(rng, size - planted)):
        name, summary = _texts(*base)
        project_id = f"prj-{n:05d}"
        projects.append(Generated(project_id, name, summary, rng.choice(units)))
        if n in originals:
            bases[project_id] = base
    for m, (original, base) in enumerate(sorted(bases.items())):
        name, summary = _reworded(rng, *base)
        project_id = f"dup-{m:05d}"
        projects.append(Generated(project_id, name, summary, rng.choice(units)))
        pairs[project_id] = original
    rng.shuffle(projects)
    return Corpus(projects, pairs)


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    flagged: int
    true_positives: int
    queries: int


def quality(corpus: Corpus, lookup, threshold: float, negatives: int, seed: int = 3) -> Quality:
    """Each planted duplicate and ``negatives`` projects with none are looked up; a match above
    ``threshold`` is flagged. Precision: flagged matches that are the planted pair; recall: planted
    pairs flagged. ``lookup(project) -> [(project_id, score), …]``."""
    rng = random.Random(seed)
    planted_ids = set(corpus.pairs) | set(corpus.pairs.values())
    by_id = {p.project_id: p for p in corpus.projects}
    clean = [p for p in corpus.projects if p.project_id not in planted_ids]
    queries = [by_id[pid] for pid in sorted(corpus.pairs)] + rng.sample(clean, negatives)
    flagged = hits = 0
    for project in queries:
        for project_id, score in lookup(project):
            if score > threshold:
                flagged += 1
                hits += corpus.pairs.get(project.project_id) == project_id
    return Quality(
        precision=hits / flagged if flagged else 1.0,
        recall=hits / len(corpus.pairs),
        flagged=flagged,
        true_positives=hits,
        queries=len(queries),
    )
