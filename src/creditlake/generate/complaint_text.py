"""Complaint narratives, mediation outcomes and the law articles a mediator cites: the planted truth of mediation.

Every 12315 complaint the generator writes follows one *scenario* (e.g. 网购七日无理由退货被拒): a category of the
catalogue, story templates with varied slots (goods, shop, price, days, what went wrong, what the merchant said,
what the consumer asks) and the articles of the law library (`laws/`) that govern it. `SCENARIOS` is therefore
also the truth the mediation search is evaluated against (benchmarks/mediation_eval.py): a complaint of scenario S
is answered well when the top articles are `S.articles` and the similar cases are of scenario S.

Everything is drawn from the `random.Random` passed in (deterministic, no real people: the texts name no person,
phone or brand). Complaints are drawn from a stream of their own (`complaint_stream`), so the mediation records
(samr/mediation_cases) replay exactly the complaints of samr/complaints_12315 whose status is a mediation outcome.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

CATEGORIES = ("商品质量", "售后服务", "合同纠纷", "价格收费", "虚假宣传", "食品安全", "预付式消费", "网络购物",
              "个人信息保护", "其他")
MEDIATION_OUTCOMES = ("调解成功", "调解不成", "终止调解")
SETTLEMENTS = ("退货退款", "退款", "换货", "维修", "赔偿", "道歉", "其他")
# Status of a complaint (catalogue samr/complaints_12315.status) and its share: most are mediated by the office.
STATUS_SHARES = {"调解成功": 0.58, "调解不成": 0.10, "终止调解": 0.08, "不予受理": 0.06, "已办结": 0.10,
                 "已受理": 0.05, "待受理": 0.03}
OPEN_STATUSES = ("待受理", "已受理")
# Procedural articles a mediator adds to the substantive ones: the grounds for ending a mediation, and the other
# ways to resolve the dispute when mediation failed.
TERMINATION_ARTICLE = "市场监督管理投诉举报处理暂行办法第二十一条"
NO_AGREEMENT_ARTICLE = "消费者权益保护法第三十九条"

XF = "消费者权益保护法"
CF = "侵害消费者权益行为处罚办法"
ZL = "产品质量法"
SP = "食品安全法"
DS = "电子商务法"
JG = "价格法"
GG = "广告法"
FB = "反不正当竞争法"
GX = "个人信息保护法"
WL = "最高人民法院关于审理网络消费纠纷案件适用法律若干问题的规定（一）"


def _a(law: str, *numbers: str) -> tuple[str, ...]:
    return tuple(f"{law}第{n}条" for n in numbers)


# Goods: (item, lowest price, highest price) by kind, with what goes wrong and where they are sold.
GOODS = {
    "digital": (("手机", 1200, 6500), ("笔记本电脑", 3000, 9000), ("平板电脑", 1500, 5000), ("蓝牙耳机", 150, 1500),
                ("智能手表", 300, 2500), ("扫地机器人", 1200, 3500), ("数码相机", 2500, 8000), ("游戏机", 1800, 3800)),
    "appliance": (("冰箱", 2000, 7000), ("滚筒洗衣机", 1800, 5000), ("空调", 2500, 8000), ("电热水器", 900, 3000),
                  ("抽油烟机", 1200, 4000), ("电饭煲", 200, 900), ("空气炸锅", 200, 700), ("燃气灶", 600, 2000)),
    "apparel": (("羽绒服", 400, 2000), ("运动鞋", 300, 1200), ("皮鞋", 300, 1500), ("羊毛大衣", 800, 3000),
                ("连衣裙", 200, 900), ("双肩包", 150, 800), ("冲锋衣", 300, 1500)),
    "furniture": (("布艺沙发", 2500, 9000), ("床垫", 1500, 6000), ("定制衣柜", 4000, 15000), ("实木餐桌", 1500, 5000),
                  ("儿童床", 1200, 4000), ("电脑椅", 300, 1500)),
    "vehicle": (("电动自行车", 1800, 4500), ("电动滑板车", 1200, 3000), ("儿童自行车", 300, 1200),
                ("电动车电池", 500, 1500)),
    "cosmetics": (("面霜", 200, 1500), ("精华液", 300, 2000), ("口红", 150, 400), ("防晒霜", 100, 400),
                  ("香水", 400, 1500)),
    "luxury": (("名牌手提包", 3000, 20000), ("机械手表", 5000, 30000), ("白酒", 800, 3000), ("金手镯", 3000, 15000)),
    "health": (("保健酒", 300, 2000), ("鱼油胶囊", 200, 1200), ("降糖茶", 300, 1800), ("磁疗床垫", 3000, 12000),
               ("理疗仪", 2000, 9000), ("蛋白粉", 300, 1500), ("灵芝孢子粉", 500, 3000)),
    "food": (("纯牛奶", 40, 120), ("面包", 10, 40), ("饼干礼盒", 30, 150), ("火腿肠", 15, 60), ("酸奶", 20, 80),
             ("速冻水饺", 20, 70), ("月饼礼盒", 100, 500), ("腊肉", 60, 300), ("辣椒酱", 15, 60)),
    "imported": (("进口奶粉", 200, 600), ("进口巧克力", 60, 300), ("进口红酒", 150, 1500), ("进口零食礼包", 80, 300),
                 ("进口橄榄油", 80, 300)),
    "meal": (("外卖套餐", 25, 120), ("火锅", 150, 600), ("烧烤", 80, 400), ("酸汤鱼", 120, 400), ("肠旺面", 15, 40),
             ("丝娃娃", 20, 60), ("生日蛋糕", 150, 500), ("奶茶", 15, 40), ("自助餐", 100, 300)),
    "prepaid": (("健身年卡", 1500, 6000), ("美容护理卡", 2000, 10000), ("美发充值卡", 500, 3000),
                ("游泳次卡", 800, 2500), ("洗车充值卡", 500, 2000), ("儿童乐园年卡", 800, 3000),
                ("少儿英语课程", 5000, 20000), ("舞蹈课程", 3000, 9000), ("钢琴课", 4000, 15000),
                ("早教课程", 6000, 18000)),
    "service": (("房屋装修", 30000, 150000), ("婚纱摄影套餐", 3000, 15000), ("婚宴酒席", 10000, 50000),
                ("家政保洁", 200, 1500), ("搬家服务", 300, 2000), ("旅游团", 2000, 9000), ("干洗衣物", 60, 400),
                ("月子中心服务", 20000, 80000)),
    "repair": (("手机维修", 200, 1500), ("家电维修", 150, 1200), ("汽车维修保养", 800, 8000), ("电脑维修", 200, 1500),
               ("热水器维修", 150, 800), ("开锁换锁", 100, 600)),
    "training": (("职业资格考证培训", 3000, 12000), ("学历提升课程", 8000, 25000), ("编程培训", 10000, 30000),
                 ("会计考证培训", 3000, 9000), ("考研辅导班", 5000, 20000), ("驾驶培训", 3500, 6000)),
    "venue": (("商场", 0, 0), ("超市", 0, 0), ("健身房", 0, 0), ("酒店", 0, 0), ("游泳馆", 0, 0), ("餐厅", 0, 0)),
    "store": (("商场", 0, 0), ("超市", 0, 0), ("便利店", 0, 0), ("服装店", 0, 0)),
}
DEFECTS = {
    "digital": ("频繁死机重启", "充不进电", "屏幕出现竖线", "突然无法开机", "用着用着自动关机", "机身发烫严重",
                "按键失灵", "摄像头无法对焦", "信号时有时无", "电池续航不到两小时"),
    "appliance": ("完全不制冷", "底部漏水", "运转时噪音特别大", "不加热", "外壳漏电", "一开就跳闸", "屏幕显示故障代码",
                  "门封条脱落", "点不着火"),
    "apparel": ("鞋底开胶", "洗一次就严重掉色", "大面积起球", "往外跑绒", "缝线开裂", "拉链坏了", "面料起皱变形"),
    "furniture": ("有很重的刺鼻气味", "坐垫塌陷变形", "表面开裂", "柜门合不上", "一坐就吱吱响", "板材发霉"),
    "vehicle": ("刹车失灵", "电池鼓包", "续航严重不足", "车架焊点断裂", "充电器冒烟", "仪表盘不亮"),
}
SHOPS = {
    "digital": ("商场手机专柜", "数码城门店", "品牌授权店", "电器卖场", "手机店"),
    "appliance": ("家电卖场", "电器城", "品牌专卖店", "建材市场门店", "超市家电区"),
    "apparel": ("商场专柜", "服装店", "品牌折扣店", "步行街门店", "奥特莱斯店"),
    "furniture": ("家具城", "家居卖场", "定制家具门店", "建材市场门店"),
    "vehicle": ("电动车店", "车行", "商场儿童用品店", "电动车维修店"),
    "cosmetics": ("美妆店", "商场化妆品专柜", "美容院", "精品店"),
    "luxury": ("名品店", "二手奢侈品店", "烟酒店", "金店"),
    "health": ("保健品体验店", "社区健康讲座现场", "养生馆", "会员店"),
    "food": ("超市", "便利店", "社区生鲜店", "农贸市场摊位", "零食店"),
    "imported": ("进口商品超市", "跨境商品店", "便利店", "商场超市"),
    "meal": ("餐馆", "外卖平台上的店铺", "火锅店", "小吃店", "酒楼", "蛋糕店"),
    "prepaid": ("健身房", "美容院", "理发店", "游泳馆", "洗车店", "培训机构", "儿童乐园", "琴行"),
    "service": ("装修公司", "婚纱影楼", "酒店", "家政公司", "搬家公司", "旅行社", "干洗店", "母婴护理中心"),
    "repair": ("维修店", "售后网点", "汽修厂", "上门维修师傅", "电脑城维修点"),
    "training": ("培训机构", "教育咨询公司", "职业培训学校", "驾校"),
    "venue": ("商场", "超市", "健身房", "酒店", "游泳馆", "餐厅"),
    "store": ("商场", "超市", "便利店", "服装店", "母婴店"),
}
# Where an item is bought, when the kind's shops would not fit it.
ITEM_SHOPS = {
    "外卖套餐": ("外卖平台上的店铺",), "火锅": ("火锅店",), "烧烤": ("烧烤店", "夜市烧烤摊"), "酸汤鱼": ("酸汤鱼馆",),
    "肠旺面": ("面馆", "早餐店"), "丝娃娃": ("小吃店",), "生日蛋糕": ("蛋糕店", "烘焙店"), "奶茶": ("奶茶店",),
    "自助餐": ("自助餐厅", "酒店餐厅"),
    "健身年卡": ("健身房", "健身工作室"), "美容护理卡": ("美容院", "皮肤管理店"), "美发充值卡": ("理发店", "美发沙龙"),
    "游泳次卡": ("游泳馆",), "洗车充值卡": ("洗车店", "汽车美容店"), "儿童乐园年卡": ("儿童乐园", "亲子乐园"),
    "少儿英语课程": ("英语培训机构", "少儿培训中心"), "舞蹈课程": ("舞蹈工作室", "艺术培训中心"),
    "钢琴课": ("琴行", "音乐培训中心"), "早教课程": ("早教中心",),
    "房屋装修": ("装修公司", "家装公司"), "婚纱摄影套餐": ("婚纱影楼", "摄影工作室"), "婚宴酒席": ("酒店", "酒楼"),
    "家政保洁": ("家政公司",), "搬家服务": ("搬家公司",), "旅游团": ("旅行社",), "干洗衣物": ("干洗店", "洗衣店"),
    "月子中心服务": ("月子中心", "母婴护理中心"),
    "手机维修": ("手机维修店", "电脑城维修点"), "家电维修": ("家电维修部", "上门维修师傅"), "汽车维修保养": ("汽修厂", "汽车维修店"),
    "电脑维修": ("电脑维修店", "电脑城维修点"), "热水器维修": ("上门维修师傅", "维修服务部"), "开锁换锁": ("开锁店",),
    "职业资格考证培训": ("职业培训学校", "教育咨询公司"), "学历提升课程": ("教育咨询公司",), "编程培训": ("培训机构",),
    "会计考证培训": ("会计培训学校", "培训机构"), "考研辅导班": ("考研培训机构",), "驾驶培训": ("驾校",),
}
# How a service contract is broken, by service.
BREACHES = {
    "房屋装修": ("工期拖了两个月还没完工", "用的材料和合同写的不一样", "墙面开裂返工没人管"),
    "婚纱摄影套餐": ("底片没有按约定全部给", "精修照片少了一半", "相册质量和样品差很多"),
    "婚宴酒席": ("菜品比合同少了好几道", "临时换了小宴会厅"), "家政保洁": ("临时更换了服务人员", "服务时间缩水一半"),
    "搬家服务": ("搬到一半要求加价", "搬运时损坏了家具"), "旅游团": ("行程被随意删减", "住宿标准降低了"),
    "干洗衣物": ("衣服洗坏了", "拖了一个月还没洗好"), "月子中心服务": ("临时更换了护理人员", "房间和合同约定的不一样"),
}
# Parts a repairer claims to replace.
REPAIR_PARTS = {"手机维修": ("屏幕总成", "主板", "电池"), "家电维修": ("压缩机", "电路板", "电机"),
                "汽车维修保养": ("刹车片", "发动机配件", "变速箱油泵"), "电脑维修": ("主板", "硬盘", "显卡"),
                "热水器维修": ("加热管", "温控器", "电路板"), "开锁换锁": ("锁芯", "锁体")}
# What a dangerous defect does, by kind of goods.
DANGERS = {"vehicle": ("刹车突然失灵", "电池充电时起火", "车架焊点断裂", "充电器冒烟起火"),
           "appliance": ("外壳漏电", "突然起火冒烟", "玻璃面板炸裂", "插头烧焦起火")}
HARMS = {"vehicle": ("摔倒骨折", "腿部擦伤缝了针", "起火烧伤了手臂", "摔伤了头部"),
         "appliance": ("手被烫伤", "被电了一下住院观察", "孩子被碎片划伤", "起火烧伤了手臂")}
PLATFORMS = ("某电商平台", "网店", "直播间", "小程序商城", "团购平台", "短视频平台店铺", "二手交易平台")

# Story pieces shared by every scenario, for variety that does not touch the legal substance.
OPENINGS = ("", "", "本人", "消费者反映：", "投诉人称，", "我想投诉一下，", "你好，", "您好，我要投诉。")
WHEN = ("{d}天前", "{m}月{day}日", "前几天", "{m}月初", "{m}月中旬", "{y}{m}月", "{m}月{day}号")
CLOSINGS = ("", "", "请帮忙处理。", "希望市场监管部门介入调解。", "请12315帮忙协调。", "望尽快处理，谢谢。",
            "已保留购物凭证和聊天记录。", "有付款记录和照片为证。")


@dataclass(frozen=True)
class Scenario:
    """One kind of consumer dispute: its category, its stories and the articles that decide it."""

    key: str
    category: str
    label: str                       # 中文简称, shown to users
    goods: tuple[str, ...]           # kinds of GOODS the story can be about
    stories: tuple[str, ...]         # templates; slots: see `_slots`
    articles: tuple[str, ...]        # citations, e.g. 消费者权益保护法第二十四条
    settlements: tuple[tuple[str, float], ...]  # (settlement, weight) when mediation succeeds
    compensation: str = "none"       # how a 赔偿 is sized: fraud3, food10, medical, partial, none
    slots: tuple[tuple[str, tuple[str, ...]], ...] = ()  # scenario-specific slot pools
    amount: bool = True              # whether the dispute has an amount involved
    amount_slot: str = "price"       # the slot whose value is the amount involved


SCENARIOS: tuple[Scenario, ...] = (
    # 商品质量 -------------------------------------------------------------------------------------------------
    Scenario(
        "quality_defect", "商品质量", "商品质量问题拒绝退换", ("digital", "appliance", "apparel", "furniture"),
        ("{when}在{shop}买了一台{item}，花了{price}，用了{days}天就{defect}。找商家要求{ask}，对方{excuse}。",
         "{when}在{shop}购买{item}一件，价格{price}。使用{days}天后出现{defect}的问题，明显是质量问题。"
         "商家{excuse}，我要求{ask}。",
         "{item}是{when}从{shop}买的，{price}，还没用满{days}天就{defect}，拿去店里，店员{excuse}。"
         "这不是我使用不当造成的，要求{ask}。"),
        _a(XF, "二十四", "二十三") + _a(ZL, "四十"),
        (("退货退款", 5), ("换货", 3), ("维修", 2)),
        slots=(("excuse", ("说只能返厂维修不能退", "说过了七天就不管退换", "坚持说是人为损坏", "一直推给厂家",
                           "说特价商品概不退换", "让我自己找售后")),
               ("ask", ("退货退款", "换一台新的", "退货并赔偿损失", "退款", "更换新品")))),
    Scenario(
        "quality_counterfeit", "商品质量", "假冒伪劣以次充好", ("luxury", "cosmetics", "apparel"),
        ("{when}在{shop}花{price}买了{item}，商家承诺是正品。后来拿去专业机构鉴定，结论是{fake}。"
         "商家拒不承认，我要求退一赔三。",
         "在{shop}购买的{item}（{price}）经品牌方鉴定为{fake}，店家当初说保证正品、假一赔十，"
         "现在却{excuse}。要求按欺诈退款并三倍赔偿。",
         "{when}买的{item}，{price}，用了发现和官方的明显不一样，鉴定后确认{fake}。商家以次充好，"
         "{excuse}，请求依法处理并赔偿。"),
        _a(XF, "五十五") + _a(ZL, "三十九") + _a(CF, "十六"),
        (("赔偿", 5), ("退货退款", 4), ("其他", 1)), compensation="fraud3",
        slots=(("fake", ("假冒产品", "仿冒品", "非原厂正品", "以旧翻新的二手货", "成分与标注不符的劣质品")),
               ("excuse", ("说鉴定机构不权威", "只同意退货不肯赔偿", "电话不接", "说货是从正规渠道进的")))),
    Scenario(
        "quality_injury", "商品质量", "商品缺陷造成人身财产损害", ("vehicle", "appliance"),
        ("{when}在{shop}买的{item}（{price}），使用中{danger}，导致{harm}。去医院花了医药费{medical}元，"
         "商家说不是他们的责任。要求赔偿医疗费和误工费。",
         "{item}买了{days}天，突然{danger}，{harm}。产品有缺陷，商家和厂家互相推诿，"
         "要求赔偿医药费{medical}元和其他损失。",
         "家里{when}从{shop}买了{item}，今天{danger}，结果{harm}，还烧坏了家里的东西。要求商家赔偿人身和财产损失。"),
        _a(XF, "四十", "四十九") + _a(ZL, "四十四"),
        (("赔偿", 7), ("退货退款", 2), ("其他", 1)), compensation="medical"),
    # 售后服务 ---------------------------------------------------------------------------------------------------
    Scenario(
        "aftersales_warranty", "售后服务", "保修期内拒绝履行修理更换", ("digital", "appliance", "vehicle"),
        ("{item}还在保修期内，{defect}，送到售后却要收{fee}元维修费，说{excuse}。购买时花了{price}，"
         "要求免费维修或者更换。",
         "{when}在{shop}买的{item}，{price}，保修一年。现在{defect}，商家{excuse}，已经拖了{days}天。"
         "要求按约定修理或者换货。",
         "{item}返修了两次还是{defect}，售后{excuse}。商品价格{price}，要求退货或者更换新机。"),
        _a(XF, "二十四") + _a(CF, "八") + _a(ZL, "四十"),
        (("维修", 4), ("换货", 3), ("退货退款", 2)),
        slots=(("excuse", ("说是人为损坏不在保修范围", "说进水了不保修", "让我先交检测费", "说配件缺货要等",
                           "说保修卡没盖章无效")),
               ("fee", ("180", "260", "350", "480", "600")))),
    Scenario(
        "aftersales_repair_fraud", "售后服务", "维修服务偷换配件乱收费", ("repair",),
        ("{when}找{shop}做{item}，当时说好{price}，修完却收了{overcharge}元，说是{parts}。拿回来没几天又坏了，"
         "怀疑把好的零件换掉了。要求退还多收的费用。",
         "{item}的师傅上门检查后说要换{parts}，收了{overcharge}元。后来别的店检查发现根本没换，"
         "原来的零件还被换成了旧件。要求退钱赔偿。",
         "在{shop}做{item}，维修后{defect2}。对方谎报用料，多收费{overcharge}元，要求赔偿损失。"),
        _a(CF, "十三") + _a(XF, "五十二"),
        (("退款", 5), ("赔偿", 3), ("维修", 2)), compensation="partial", amount_slot="overcharge",
        slots=(("defect2", ("问题反而更多了", "完全不能用了", "异响更大", "出现了新的故障", "比修之前还差")),)),
    Scenario(
        "aftersales_delay", "售后服务", "售后拖延推诿不处理", ("digital", "appliance", "furniture"),
        ("{when}申请售后，{item}{defect}，到现在{days}天了没人处理，客服电话打不通，催了多次都说在走流程。"
         "要求尽快解决。",
         "{item}（{price}）报修后商家一直拖延，先说等配件，又说等厂家审核，前后拖了一个多月，"
         "要求商家限期处理或者退货。",
         "在{shop}买的{item}坏了，{defect}，联系售后{days}天无人上门，投诉到店里也是互相推脱。请求协调。"),
        _a(CF, "八") + _a(XF, "四十八"),
        (("维修", 4), ("换货", 3), ("退货退款", 2), ("道歉", 1))),
    # 合同纠纷 ---------------------------------------------------------------------------------------------------
    Scenario(
        "contract_unfair_terms", "合同纠纷", "格式条款排除消费者权利", ("service", "prepaid", "furniture"),
        ("签合同时店家的合同里写着“{clause}”，当时没有特别说明。现在{item}出了问题，对方就拿这条说事，"
         "拒绝承担责任。我认为这是霸王条款，要求{ask}。",
         "{when}订了{item}，付了{price}。店里贴着“{clause}”的告示，现在商家拿这个拒绝{ask}，"
         "这样的条款对消费者不公平。",
         "{shop}在合同里约定“{clause}”，我要求{ask}时被拒绝。请认定该条款无效。"),
        _a(XF, "二十六") + _a(CF, "十二"),
        (("退款", 5), ("其他", 3), ("赔偿", 2)), compensation="partial",
        slots=(("clause", ("本店拥有最终解释权", "定金概不退还", "售出概不退换", "如有损坏本店不承担责任",
                           "消费者违约需支付全部费用的50%", "活动商品不退不换")),
               ("ask", ("退还定金", "退款", "解除合同", "赔偿损失")))),
    Scenario(
        "contract_service_breach", "合同纠纷", "服务不按合同约定履行", ("service",),
        ("{when}和{shop}签了{item}合同，总价{price}。对方没有按合同约定完成，{breach}。协商多次没有结果，"
         "要求按合同履行或者退还部分费用并赔偿。",
         "{item}合同约定的内容对方只做了一部分，{breach}，还要我加钱。合同金额{price}，"
         "要求对方按约定履行。",
         "在{shop}办的{item}，{breach}，和当初签的合同完全不一样。要求退还费用{refund}元。"),
        _a(XF, "十六", "四十八", "五十二"),
        (("退款", 5), ("赔偿", 3), ("其他", 2)), compensation="partial",
        ),
    Scenario(
        "contract_delivery_delay", "合同纠纷", "预订商品逾期不交付", ("furniture", "appliance", "vehicle"),
        ("{when}在{shop}订了{item}，交了定金{deposit}元，约定{days}天内交货，现在超期一个多月还没送货。"
         "要求退还定金并承担利息。",
         "定做的{item}总价{price}，已付款{deposit}元，商家一拖再拖，说工厂排不上。要求按约定交货，"
         "否则退款。",
         "{item}订购后商家迟迟不发货，已付预付款{deposit}元，多次催促无果。要求解除合同退还全部款项。"),
        _a(XF, "十六", "五十三"),
        (("退款", 6), ("其他", 2), ("赔偿", 2)), compensation="partial", amount_slot="deposit"),
    # 价格收费 ---------------------------------------------------------------------------------------------------
    Scenario(
        "price_overcharge", "价格收费", "结算价格高于标价或收取未标明费用", ("food", "apparel", "cosmetics", "meal"),
        ("{when}在{shop}买{item}，货架上标价{tag}元，结账时收了{paid}元，要求退还差价。",
         "在{shop}消费，结账时多出了{extra}，事先没有任何标价和告知。一共付了{price}，要求退还多收的钱。",
         "{shop}的{item}明码标价{tag}元，实际扣款{paid}元，店员说价签没来得及换。要求按标价结算并退款。"),
        _a(JG, "十三", "四十一") + _a(XF, "二十"),
        (("退款", 8), ("道歉", 1), ("其他", 1)), compensation="partial", amount_slot="paid",
        slots=(("extra", ("服务费", "餐具费", "打包费", "包间费", "开瓶费", "茶位费")),)),
    Scenario(
        "price_fake_discount", "价格收费", "虚假折扣虚构原价", ("apparel", "appliance", "digital", "cosmetics"),
        ("{shop}搞促销，{item}标“原价{orig}元，现价{price}”，后来发现之前一直就卖这个价，原价是虚构的。"
         "这是价格欺诈，要求赔偿。",
         "{when}看到{shop}“{promo}”的广告买了{item}，付了{price}，结果第二天同一商品降价更多，"
         "所谓的最低价是假的。要求退还差价。",
         "{item}宣传{promo}，实际先涨价后打折，折后价{price}比平时还贵。要求退款并按规定赔偿。"),
        _a(JG, "十四", "四十一") + _a(CF, "六"),
        (("退款", 5), ("赔偿", 3), ("其他", 2)), compensation="fraud3",
        slots=(("promo", ("全场五折清仓", "全年最低价", "限时秒杀", "闭店甩卖", "厂家直销价")),)),
    Scenario(
        "price_forced_consumption", "价格收费", "强制消费和最低消费", ("meal", "service"),
        ("{when}在{shop}吃饭，店家规定包间最低消费{minimum}元，不够也要按这个付，还不让自带酒水，要收开瓶费。"
         "认为是强制消费。",
         "跟旅游团出去玩，被导游带到购物店，不买东西不让走，被迫花了{price}买了玉器。要求退货退款。",
         "{shop}结账时强行加收{extra}，说是店里规定，贴在墙上的告示写着不可拒绝。要求退还。"),
        _a(XF, "十", "二十六") + _a(JG, "十三"),
        (("退款", 7), ("道歉", 2), ("其他", 1)),
        slots=(("minimum", ("800", "1000", "1500", "2000")), ("extra", ("开瓶费", "服务费", "包间费", "餐位费")))),
    # 虚假宣传 ---------------------------------------------------------------------------------------------------
    Scenario(
        "false_ad_health", "虚假宣传", "保健品夸大功效宣称治病", ("health",),
        ("{when}家里老人在{shop}听讲座，对方宣传{item}能{cure}，花{price}买了一批，吃了没有任何效果。"
         "要求退货退款。",
         "{shop}推销{item}，说可以{cure}，还说不用再吃药了。老人花了{price}，现在病情反而加重。"
         "商家虚假宣传，要求退款赔偿。",
         "{item}的广告说{cure}，实际上就是普通食品。花费{price}，要求退一赔三。"),
        _a(GG, "十七", "二十八") + _a(XF, "五十五"),
        (("退货退款", 5), ("赔偿", 4), ("其他", 1)), compensation="fraud3",
        slots=(("cure", ("治疗糖尿病", "降血压", "根治关节炎", "防癌抗癌", "治失眠", "软化血管")),)),
    Scenario(
        "false_ad_goods", "虚假宣传", "商品宣传与实际不符", ("digital", "appliance", "cosmetics", "furniture"),
        ("{shop}宣传{item}{claim}，我{when}花{price}买了，实际完全达不到。这是虚假宣传，要求退货并赔偿。",
         "购买前店员介绍{item}{claim}，买回来才发现{truth}。商家欺骗消费者，要求退款。",
         "{item}（{price}）包装和宣传页上写着{claim}，经检测{truth}。要求商家承担欺诈责任。"),
        _a(XF, "二十") + _a(FB, "八") + _a(XF, "五十五"),
        (("退货退款", 6), ("赔偿", 3), ("其他", 1)), compensation="fraud3",
        slots=(("claim", ("是进口原装", "是实木材质", "有效除甲醛", "续航十二小时", "一级能效", "纯天然无添加")),
               ("truth", ("是国产组装的", "是密度板贴皮", "根本没有这个功能", "续航只有四小时", "能效是三级",
                          "含有化学添加剂")))),
    Scenario(
        "false_ad_training", "虚假宣传", "培训机构承诺包过保分", ("training",),
        ("报名{shop}的{item}，交了{price}，对方承诺{promise}。结果没通过，要求退费时对方不认账。",
         "{when}参加{item}，招生老师说{promise}，还说有考试内部人员。学费{price}，考试没过，要求全额退款。",
         "{shop}宣传{promise}，我交了{price}报了{item}，上课内容和宣传不一样，考试也没过，要求退费。"),
        _a(GG, "二十四") + _a(XF, "二十", "五十五"),
        (("退款", 7), ("其他", 2), ("赔偿", 1)), compensation="partial",
        slots=(("promise", ("不过全额退费", "百分之百包过", "保证拿证", "保分数线", "包推荐就业")),)),
    Scenario(
        "false_reviews", "虚假宣传", "刷单炒信虚构销量评价", ("cosmetics", "digital", "apparel"),
        ("在{platform}看到{item}销量十几万、好评如潮就买了，花了{price}，收到后质量很差。后来发现好评都是刷的，"
         "店家还发返现卡让人写好评。",
         "{platform}上的{item}显示“{fake_sales}”，实际是虚构交易刷出来的，商品和评价里说的根本不一样。"
         "要求退款。",
         "店家用返现诱导好评，{item}评价全是假的，我{when}买了{price}的货，被误导了。要求处理。"),
        _a(DS, "十七") + _a(FB, "八") + _a(CF, "六"),
        (("退货退款", 7), ("赔偿", 2), ("其他", 1)),
        slots=(("fake_sales", ("月销10万+", "好评率99%", "回头客超5万", "全网销量第一")),)),
    # 食品安全 ---------------------------------------------------------------------------------------------------
    Scenario(
        "food_expired", "食品安全", "销售过期食品", ("food", "imported"),
        ("{when}在{shop}买的{item}，回家发现已经过期{over}天了，货架上还有好几件也是过期的。要求按食品安全法十倍赔偿。",
         "在{shop}购买{item}，价格{price}，打开发现生产日期是很久以前的，已过保质期。要求退款并赔偿一千元。",
         "{shop}把过期的{item}混在正常商品里卖，我买了{n}件共{price}，小孩吃了一口才发现。要求赔偿。"),
        _a(SP, "三十四", "五十四", "一百四十八"),
        (("赔偿", 7), ("退款", 2), ("道歉", 1)), compensation="food10",
        slots=(("over", ("3", "7", "12", "20", "45")), ("n", ("2", "3", "4", "6")))),
    Scenario(
        "food_foreign_matter", "食品安全", "食品中有异物或变质", ("food", "meal"),
        ("{when}在{shop}点的{item}，吃到一半发现里面有{matter}，太恶心了。商家只愿意退一道菜的钱。要求赔偿。",
         "买的{item}打开后发现{matter}，已经{spoiled}。花了{price}，要求退款并依法赔偿。",
         "{shop}的{item}里吃出{matter}，拍照留了证据，店员态度很差，说是我自己放的。要求赔偿并整改卫生。"),
        _a(SP, "三十四", "一百四十八"),
        (("赔偿", 6), ("退款", 3), ("道歉", 1)), compensation="food10",
        slots=(("matter", ("一根头发", "一只苍蝇", "一截钢丝球", "塑料片", "虫子", "烟头")),
               ("spoiled", ("发霉了", "胀袋了", "有酸臭味", "长毛了")))),
    Scenario(
        "food_poisoning", "食品安全", "食用后身体不适就医", ("meal", "food"),
        ("{when}在{shop}吃了{item}，当晚{symptom}，去医院诊断为急性肠胃炎，花了{medical}元。同桌的人也不舒服。"
         "要求赔偿医疗费和误工费。",
         "一家人吃了{shop}的{item}后都{symptom}，到医院输液两天，医药费{medical}元。商家不承认是食物问题，要求赔偿。",
         "点了{item}外卖，吃完{symptom}，医生说是食物中毒。要求商家承担医疗费{medical}元和误工损失。"),
        _a(SP, "一百四十八", "一百四十七") + _a(XF, "四十九"),
        (("赔偿", 8), ("退款", 1), ("道歉", 1)), compensation="medical",
        slots=(("symptom", ("上吐下泻", "肚子痛拉肚子", "发烧呕吐", "腹泻不止")),)),
    Scenario(
        "food_label", "食品安全", "进口食品无中文标签或标签不全", ("imported", "food"),
        ("在{shop}买的{item}，包装上没有中文标签，看不到生产日期和进口商信息，怀疑是走私货。花了{price}，要求十倍赔偿。",
         "{when}购买{item}{n}件，外包装只有外文，没有中文标签和国内代理商，商家说是正规进口。要求退款赔偿。",
         "{item}标签上没有标注生产日期和保质期，配料表也没有。{price}买的，要求依法赔偿。"),
        _a(SP, "九十七", "六十七", "一百四十八"),
        (("赔偿", 6), ("退款", 3), ("其他", 1)), compensation="food10",
        slots=(("n", ("2", "3", "5", "10")),)),
    # 预付式消费 -------------------------------------------------------------------------------------------------
    Scenario(
        "prepaid_closed", "预付式消费", "经营者停业跑路预付款无法退还", ("prepaid",),
        ("{when}在{shop}办了{item}，充值{price}，才用了{used}次，店就突然关门了，老板电话打不通，"
         "门口贴着停业装修的通知。要求退还余额。",
         "{shop}关门跑路，我的{item}还剩{balance}元没用。很多会员都找不到人，要求经营者退还预付款。",
         "{item}办了不到{months}个月，{shop}说要搬迁，之后再也联系不上，卡里余额{balance}元。请求帮助退款。"),
        _a(XF, "五十三") + _a(CF, "十"),
        (("退款", 8), ("其他", 2)), compensation="partial", amount_slot="balance",
        slots=(("used", ("2", "3", "5", "8", "10")), ("months", ("2", "3", "4", "6")))),
    Scenario(
        "prepaid_refund_refused", "预付式消费", "预付卡退费被拒或扣高额违约金", ("prepaid",),
        ("{when}在{shop}办了{item}，交了{price}。因为{reason}，想退掉剩下的，商家说办卡时签了协议不能退，"
         "要退也要扣{penalty}的手续费。要求按实际消费退还余额。",
         "{item}交费{price}，只上了{used}次课，{reason}，申请退费被拒绝，合同写着“一经售出概不退款”。要求退费。",
         "{shop}的{item}不给退，说可以转让给别人，但我{reason}，要求退还剩余费用，对方要扣一半。"),
        _a(XF, "五十三", "二十六") + _a(CF, "十"),
        (("退款", 8), ("其他", 2)), compensation="partial",
        slots=(("reason", ("工作调动到外地", "孩子不愿意去上", "身体原因不能继续", "搬家离得太远", "服务质量下降")),
               ("penalty", ("30%", "50%", "一千元", "两千元")), ("used", ("2", "4", "6", "8")))),
    Scenario(
        "prepaid_service_changed", "预付式消费", "办卡后服务缩水擅自变更", ("prepaid",),
        ("{when}在{shop}办了{item}，{price}。现在{change}，和办卡时说的不一样。要求按约定提供服务或退款。",
         "{item}办卡时承诺的项目，商家单方面{change}，还要求加钱升级。要求按原约定履行。",
         "{shop}换了老板后{change}，之前充值{price}的{item}不认了，要我重新办卡。要求退还余额。"),
        _a(XF, "五十三", "十六") + _a(CF, "十"),
        (("退款", 6), ("其他", 4)), compensation="partial",
        slots=(("change", ("取消了免费项目", "营业时间缩短了一半", "老师换成了实习生", "次卡改为按时段使用",
                           "价格上涨要补差价", "场馆搬到很远的地方")),)),
    # 网络购物 ---------------------------------------------------------------------------------------------------
    Scenario(
        "online_return_refused", "网络购物", "网购七日无理由退货被拒", ("digital", "apparel", "cosmetics", "appliance"),
        ("在{platform}买了{item}，{price}，收到第{ret}天申请七天无理由退货，商家说{excuse}，不同意退。",
         "{when}网购{item}，商品完好不影响二次销售，申请无理由退货被拒绝，商家{excuse}。要求退货退款。",
         "{platform}上买的{item}不合适想退，还在七天内，店铺一直不处理退货申请，退货地址也不给。"),
        _a(XF, "二十五") + _a(CF, "九"),
        (("退货退款", 9), ("其他", 1)),
        slots=(("excuse", ("说特价商品不支持无理由退货", "说页面写了不退不换", "说影响二次销售",
                           "说已过退货时间", "只同意换货")), ("ret", ("2", "3", "4", "5", "6")))),
    Scenario(
        "online_unpacked", "网络购物", "以已拆封为由拒绝无理由退货", ("digital", "appliance", "cosmetics"),
        ("在{platform}买的{item}，拆开包装检查了一下，发现{regret}，想七天无理由退货，商家说已经拆封不能退。",
         "{when}网上购买{item}（{price}），为了查看商品拆了外包装，商品完好。商家以已拆封为由拒绝退货。"
         "要求按七日无理由退货处理。",
         "{item}拆封查验后不影响商品完好，{platform}店铺坚持拆封就不退，要求退货退款。"),
        _a(XF, "二十五") + _a(WL, "三") + _a(CF, "九"),
        (("退货退款", 9), ("其他", 1)),
        slots=(("regret", ("颜色和图片有差异", "尺寸不合适", "型号买错了", "不太喜欢")),)),
    Scenario(
        "online_not_as_described", "网络购物", "网购商品与描述不符", ("digital", "apparel", "furniture", "cosmetics"),
        ("在{platform}买的{item}，页面写的是{desc}，收到的却是{actual}，货不对板。要求退货退款。",
         "{when}网购{item}，{price}，商品详情页的参数和实物不一致，{actual}。商家说以实物为准。要求处理。",
         "{platform}下单的{item}与描述严重不符，描述为{desc}，实际{actual}，客服拒绝退款。"),
        _a(DS, "十七") + _a(XF, "二十三", "二十四"),
        (("退货退款", 7), ("换货", 2), ("其他", 1)),
        slots=(("desc", ("全新原装", "纯棉材质", "真皮", "128G内存", "实木", "正品行货")),
               ("actual", ("翻新机", "化纤面料", "人造革", "64G的", "颗粒板", "水货")))),
    Scenario(
        "online_delivery", "网络购物", "网购商品未按约定交付", ("digital", "appliance", "apparel", "furniture"),
        ("在{platform}买了{item}，付款{price}，说好{ship}内发货，已经过去{late}天还没发货，"
         "问客服一直说在排单。要求退款。",
         "{item}的物流显示已签收，但我根本没收到，快递柜和门口都没有。商家说签收了就和他们无关。要求补发或退款。",
         "{when}在{platform}下单{item}，运输途中商品摔坏了，商家让我找快递公司。要求商家负责。"),
        _a(DS, "二十", "五十一"),
        (("退款", 6), ("换货", 3), ("其他", 1)),
        slots=(("late", ("10", "15", "20", "30")), ("ship", ("48小时", "3天", "5天", "7天")))),
    Scenario(
        "online_livestream", "网络购物", "直播带货商品问题主播推诿", ("cosmetics", "food", "apparel", "health"),
        ("看{platform}直播，主播说{item}{claim}，下单花了{price}，收到后发现完全不是那回事。直播间说他们只是推广，"
         "让找厂家。",
         "{when}在直播间买了{item}，主播承诺{claim}，现在出了问题直播间不认，也不告诉我实际卖家是谁。要求赔偿。",
         "在直播间下单的{item}有问题，直播间运营方说不是卖家，页面上也没标明实际销售者。要求直播间承担责任。"),
        _a(WL, "十二", "十一") + _a(XF, "四十四"),
        (("退货退款", 6), ("赔偿", 3), ("其他", 1)), compensation="fraud3",
        slots=(("claim", ("是正品大牌", "全网最低价", "过敏包退", "买一送三", "源头工厂直供")),)),
    Scenario(
        "online_platform", "网络购物", "网店失联平台不协助", ("digital", "apparel", "appliance"),
        ("在{platform}买的{item}有问题，店铺已经关了，联系不上卖家，平台说不负责。花了{price}，要求平台先行赔付。",
         "{item}网购后发现是假货，卖家失联，{platform}不提供卖家的真实名称和地址。要求平台承担赔偿责任。",
         "{when}在{platform}购物遇到纠纷，商家跑路，平台客服一直推，不协助维权。要求平台处理。"),
        _a(XF, "四十四") + _a(DS, "三十八", "六十一"),
        (("退款", 7), ("赔偿", 2), ("其他", 1))),
    # 个人信息保护 -----------------------------------------------------------------------------------------------
    Scenario(
        "privacy_leak", "个人信息保护", "个人信息被泄露导致骚扰", ("prepaid", "service"),
        ("{when}在{shop}办{item}时留了手机号和身份证号，之后每天都接到{spam}，对方能说出我的姓名和住址。"
         "怀疑是商家泄露了我的个人信息。要求停止侵害并赔偿。",
         "在{shop}登记信息后，个人信息被卖给了{buyer}，骚扰电话不断。要求商家赔礼道歉并赔偿损失。",
         "{shop}员工把会员资料泄露出去，我的信息被用来{abuse}。要求商家承担责任。"),
        _a(XF, "二十九", "五十") + _a(GX, "十"),
        (("道歉", 5), ("赔偿", 4), ("其他", 1)), compensation="partial", amount=False,
        slots=(("spam", ("推销电话", "贷款广告短信", "装修推销电话", "保险推销电话")),
               ("buyer", ("装修公司", "保险公司", "培训机构", "贷款中介")),
               ("abuse", ("注册网贷账号", "办理电话卡", "发送诈骗短信")))),
    Scenario(
        "privacy_overcollection", "个人信息保护", "强制收集个人信息不同意不给服务", ("prepaid", "venue"),
        ("{when}去{shop}消费，必须{collect}才能{use}，我不同意就不给服务。这和消费根本无关，属于过度收集。",
         "{shop}要求顾客{collect}，不同意就不让{use}。要求商家停止强制收集并删除我的信息。",
         "在{shop}办会员卡，店员要求{collect}，说是规定。我拒绝后被告知不能办理，要求处理。"),
        _a(GX, "十六", "六") + _a(XF, "二十九"),
        (("道歉", 6), ("其他", 4)), amount=False,
        slots=(("collect", ("刷脸录入人脸信息", "提供身份证照片", "关注公众号并授权手机号", "填写家庭住址和工作单位",
                            "授权通讯录")),
               ("use", ("进门", "结账", "办卡", "使用储物柜", "领取会员优惠")))),
    Scenario(
        "privacy_spam", "个人信息保护", "未经同意发送商业信息", ("prepaid", "digital", "cosmetics"),
        ("{shop}每天给我发营销短信，我已经回复退订了好几次还在发，从来没同意过接收广告。要求停止发送。",
         "在{shop}买过一次{item}后，天天收到促销短信和电话，明确拒绝了还是打。要求停止骚扰。",
         "{when}以来一直收到{shop}的推销信息，退订无效。我没有同意过。请处理。"),
        _a(XF, "二十九") + _a(CF, "十一"),
        (("道歉", 7), ("其他", 3)), amount=False),
    # 其他 -------------------------------------------------------------------------------------------------------
    Scenario(
        "other_dignity", "其他", "搜身辱骂侵犯人格尊严", ("store",),
        ("{when}在{shop}购物，出门时报警器响了，保安把我拉到小房间{search}，最后什么都没有。当众受辱，"
         "要求赔礼道歉并赔偿精神损失。",
         "在{shop}因为一点小事和店员争执，对方当众辱骂我，还{search}。要求道歉赔偿。",
         "{shop}工作人员怀疑我偷东西，{search}，不让我离开。侵犯了我的人格尊严，要求赔偿。"),
        _a(XF, "二十七", "五十", "五十一"),
        (("道歉", 6), ("赔偿", 4)), compensation="partial", amount=False,
        slots=(("search", ("强行翻包搜身", "搜查我的包", "扣住不让走", "推搡我")),)),
    Scenario(
        "other_safety", "其他", "经营场所未尽安全保障义务", ("venue",),
        ("{when}在{shop}{accident}，现场没有任何警示标志，去医院花了{medical}元。商家说和他们无关。"
         "要求赔偿医疗费。",
         "在{shop}{accident}，受伤后工作人员没有及时处理，医药费{medical}元。要求经营者承担赔偿责任。",
         "{shop}的设施有安全隐患，我{accident}，检查花了{medical}元，要求赔偿并整改。"),
        _a(XF, "十八", "四十八", "四十九"),
        (("赔偿", 9), ("道歉", 1)), compensation="medical", amount=False,
        slots=(("accident", ("因为地面湿滑摔倒了", "被掉下来的广告牌砸伤", "被扶梯夹伤了脚", "被器械砸伤",
                             "在泳池边滑倒磕破了头")),)),
    Scenario(
        "other_invoice", "其他", "拒绝出具发票", ("appliance", "digital", "furniture"),
        ("{when}在{shop}消费{price}，要求开发票，商家说开票要加{tax}的税点，不加就不开。",
         "在{shop}买{item}，索要发票被拒绝，说只能开收据。要求依法出具发票。",
         "{shop}以发票用完了为由拒绝开票，{price}的消费拿不到发票，要求商家出具。"),
        _a(XF, "二十二"),
        (("其他", 8), ("道歉", 2)),
        slots=(("tax", ("6%", "10%", "13%")),)),
)

BY_KEY = {s.key: s for s in SCENARIOS}
BY_CATEGORY = {c: tuple(s for s in SCENARIOS if s.category == c) for c in CATEGORIES}

# Which categories complaints against an enterprise fall into, by its GB/T 4754 section.
CATEGORY_WEIGHTS_BY_INDUSTRY = {
    "F": {"商品质量": 22, "售后服务": 14, "网络购物": 20, "价格收费": 10, "虚假宣传": 8, "食品安全": 10,
          "合同纠纷": 4, "预付式消费": 3, "个人信息保护": 4, "其他": 5},
    "H": {"食品安全": 45, "价格收费": 18, "预付式消费": 8, "合同纠纷": 6, "个人信息保护": 4, "其他": 9,
          "虚假宣传": 4, "网络购物": 6},
    "O": {"预付式消费": 35, "售后服务": 20, "合同纠纷": 12, "个人信息保护": 8, "价格收费": 8, "其他": 7,
          "虚假宣传": 5, "商品质量": 5},
    "P": {"预付式消费": 45, "虚假宣传": 30, "合同纠纷": 12, "个人信息保护": 8, "其他": 5},
    "R": {"预付式消费": 35, "其他": 20, "价格收费": 15, "合同纠纷": 10, "个人信息保护": 10, "虚假宣传": 10},
    "K": {"合同纠纷": 50, "虚假宣传": 20, "价格收费": 10, "其他": 10, "个人信息保护": 10},
    "C": {"商品质量": 45, "售后服务": 20, "虚假宣传": 15, "食品安全": 10, "其他": 10},
}
DEFAULT_CATEGORY_WEIGHTS = {"商品质量": 16, "售后服务": 12, "合同纠纷": 10, "价格收费": 10, "虚假宣传": 8,
                            "食品安全": 8, "预付式消费": 12, "网络购物": 14, "个人信息保护": 5, "其他": 5}


def _pick(rng: random.Random, weights: dict[str, float] | tuple[tuple[str, float], ...]) -> str:
    items = list(weights.items()) if isinstance(weights, dict) else list(weights)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _money(value: float) -> str:
    return f"{value:.2f}"


def _price(rng: random.Random, lo: float, hi: float) -> float:
    if hi <= 0:
        return 0.0
    value = rng.uniform(lo, hi)
    step = 1 if value < 100 else 10 if value < 5000 else 100
    return float(round(value / step) * step)


@dataclass(frozen=True)
class Complaint:
    """One generated complaint and, when mediated, its outcome (the planted truth of one case)."""

    scenario: str
    category: str
    text: str
    amount: float | None
    status: str
    settlement: str | None
    settled_amount: float | None
    cited_articles: tuple[str, ...]


def _slots(rng: random.Random, s: Scenario, received: date) -> dict[str, str]:
    kind = rng.choice(s.goods)
    item, lo, hi = rng.choice(GOODS[kind])
    price = _price(rng, lo, hi)
    before = received - timedelta(days=rng.randint(3, 60))
    slots = {
        "item": item, "shop": rng.choice(ITEM_SHOPS.get(item) or SHOPS[kind]),
        "price": f"{price:g}元" if price else "一笔钱", "_price": f"{price:g}",
        "tag": f"{price:g}", "paid": f"{_price(rng, price * 1.1, price * 1.6):g}",
        "deposit": f"{_price(rng, price * 0.1, price * 0.5):g}", "balance": f"{_price(rng, price * 0.3, price * 0.9):g}",
        "overcharge": f"{_price(rng, price * 1.5, price * 3):g}", "orig": f"{_price(rng, price * 1.5, price * 2.5):g}",
        "refund": f"{_price(rng, price * 0.2, price * 0.6):g}",
        "parts": rng.choice(REPAIR_PARTS.get(item, ("配件",))),
        "breach": rng.choice(BREACHES.get(item, ("没有按约定提供服务",))),
        "days": str(rng.randint(2, 25)), "defect": rng.choice(DEFECTS.get(kind, DEFECTS["digital"])),
        "danger": rng.choice(DANGERS.get(kind, DANGERS["appliance"])), "harm": rng.choice(HARMS.get(kind, HARMS["appliance"])),
        "platform": rng.choice(PLATFORMS), "medical": str(rng.choice((360, 580, 860, 1240, 2300, 3800, 5600))),
        "when": rng.choice(WHEN).format(d=(received - before).days, m=before.month, day=before.day,
                                        y="今年" if before.year == received.year else "去年"), "n": "2",
    }
    for name, pool in s.slots:
        slots[name] = rng.choice(pool)
    return slots


def write_complaint(rng: random.Random, scenario: Scenario, received: date) -> tuple[str, float | None]:
    """The narrative of one complaint of `scenario` received on `received`, and the amount involved."""
    slots = _slots(rng, scenario, received)
    template = rng.choice(scenario.stories)
    text = f"{rng.choice(OPENINGS)}{template.format(**slots)}{rng.choice(CLOSINGS)}"
    amount = float(slots["_price" if scenario.amount_slot == "price" else scenario.amount_slot])
    if scenario.compensation == "medical" and (not scenario.amount or "{medical}" in template):
        amount = float(slots["medical"])
    elif not scenario.amount:
        return text, None
    return text, amount or None


def _settled_amount(rng: random.Random, s: Scenario, settlement: str, amount: float | None) -> float | None:
    base = amount or 0.0
    if settlement == "退货退款":
        return base
    if settlement == "退款":
        return round(base * rng.choice((1.0, 1.0, 0.8, 0.6, 0.5)), 2)
    if settlement == "赔偿":
        if s.compensation == "fraud3":
            return base + max(base * 3, 500.0)
        if s.compensation == "food10":
            return base + max(base * 10, 1000.0)
        if s.compensation == "medical":
            return round(base * rng.uniform(1.0, 1.5), 2) if base else float(rng.choice((500, 800, 1500, 3000)))
        return round(max(base * rng.uniform(0.1, 0.5), 200.0), 2)
    if settlement == "其他":
        return round(base * rng.uniform(0.05, 0.3), 2) if base else 0.0
    return 0.0  # 换货, 维修, 道歉


def cited_for(scenario: Scenario, outcome: str) -> tuple[str, ...]:
    """The articles the mediator cites: the scenario's, plus the procedural one of a failed or ended mediation."""
    if outcome == "终止调解":
        return scenario.articles + (TERMINATION_ARTICLE,)
    if outcome == "调解不成":
        return scenario.articles + (NO_AGREEMENT_ARTICLE,)
    return scenario.articles


def draw_complaint(rng: random.Random, industry: str, received: date) -> Complaint:
    """A complaint against an enterprise of `industry`: category, scenario, narrative, status and settlement."""
    category = _pick(rng, CATEGORY_WEIGHTS_BY_INDUSTRY.get(industry, DEFAULT_CATEGORY_WEIGHTS))
    scenario = rng.choice(BY_CATEGORY[category])
    text, amount = write_complaint(rng, scenario, received)
    status = _pick(rng, STATUS_SHARES)
    settlement = settled = None
    if status == "调解成功":
        settlement = _pick(rng, scenario.settlements)
        settled = _settled_amount(rng, scenario, settlement, amount)
    cited = cited_for(scenario, status) if status in MEDIATION_OUTCOMES else ()
    return Complaint(scenario.key, category, text, amount, status, settlement, settled, cited)


def complaint_stream(world_key: str, period: str) -> random.Random:
    """The random stream complaints of one period are drawn from: the same in samr/complaints_12315 and
    samr/mediation_cases, so both datasets tell the story of the same complaints."""
    return random.Random(f"complaints:{world_key}:{period}")


def complaint_values(c: Complaint, received: date, closed: date) -> dict:
    """The samr/complaints_12315 columns of a complaint (open complaints have no closing date); `_complaint`
    carries the whole record for the mediation model (the generic filler ignores names not in the catalogue)."""
    return {"category": c.category, "content": c.text,
            "amount_involved": _money(c.amount) if c.amount is not None else None,
            "status": c.status, "closed_on": None if c.status in OPEN_STATUSES else closed.isoformat(),
            "_complaint": c}


def mediation_values(complaint_id: str, c: Complaint, closed_on: str) -> dict:
    """The samr/mediation_cases row of a mediated complaint."""
    return {"case_id": "TJ" + complaint_id.removeprefix("TS"), "complaint_id": complaint_id,
            "category": c.category, "complaint_text": c.text, "outcome": c.status, "settlement": c.settlement,
            "amount_involved": _money(c.amount) if c.amount is not None else None,
            "settled_amount": _money(c.settled_amount) if c.settled_amount is not None else None,
            "closed_on": closed_on, "cited_articles": ";".join(c.cited_articles), "_scenario": c.scenario}


def scenario_of(category: str, cited: str | list[str] | tuple[str, ...]) -> str | None:
    """The scenario whose articles a case cites (the procedural articles aside), when exactly one matches."""
    refs = set(cited.split(";") if isinstance(cited, str) else cited) - {TERMINATION_ARTICLE, NO_AGREEMENT_ARTICLE}
    hits = [s.key for s in BY_CATEGORY.get(category, ()) if set(s.articles) == refs]
    return hits[0] if len(hits) == 1 else None
