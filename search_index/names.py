"""Full names in the index, without the names: keyed tokens, and how a query may hold a name.

A citizen types a full name joined to the document's words (王秀英结婚登记).  Titles and
summaries reach the index masked (王*英), so the name itself can only match through the
document's subject.  The index holds it as a *name token*: an HMAC of the normalised name under
a secret the index never stores, so neither the index's files, a dump, nor a Meilisearch remote
can give the name back, and a guess can only be checked by someone who holds the secret.

The masked form the public sees (王*英) gets a *mask token* too, unkeyed: it is public already.
It lets a copied masked name find that person's records rather than every record holding 王
and 英 somewhere.

Queries are read by query.readings(): each place where a known surname starts a run of Chinese
characters may begin a name of two to four characters (欧阳 and the other compound surnames
count as one).  Tokens are lower-case ASCII letters, one word to both engines' tokenizers.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from .text import normalize

NAME_PREFIX, MASK_PREFIX = "nk", "mk"
# 96 bits: collisions between the names of a catalog are out of reach.
_TOKEN_HEX = 24
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")

# Common surnames of mainland China (and of Guangxi in particular: 覃 韦 蒙 农 蓝 莫), simplified;
# queries are normalised (traditional folded to simplified) before they are read.
SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯"
    "纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪"
    "简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎"
    "甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝"
    "区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸"
    "雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀"
    "衣信展阴昝智幸奉植衡富尧闭由")
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯", "轩辕",
    "端木", "独孤", "南宫", "长孙", "宇文", "申屠", "司空", "钟离", "万俟", "闻人", "澹台", "公冶", "太叔",
    "濮阳", "淳于", "单于", "赫连", "呼延", "拓跋"))
MIN_NAME, MAX_NAME = 2, 4

# A masked name as the portal shows it: first character, stars, and the last one (王*英, 王*, 欧**英).
MASKED = re.compile(r"([^\W\d_a-z])(\*+)([^\W\d_a-z*]?)")


def _token(prefix: str, digest: str) -> str:
    return prefix + digest[:_TOKEN_HEX].translate(_LETTERS)


def _clean(name: str) -> str:
    return "".join(normalize(name).split())


class NameKeys:
    """Turns full names and masked names into index tokens; the same secret must be used for
    the documents and for the queries of one index."""

    def __init__(self, secret: bytes | str) -> None:
        if not secret:
            raise ValueError("the search index needs a secret for its name tokens")
        self._secret = secret.encode() if isinstance(secret, str) else bytes(secret)

    def name(self, full_name: str) -> str:
        """The token of a full name; '' when there is none."""
        name = _clean(full_name)
        if not name:
            return ""
        return _token(NAME_PREFIX, hmac.new(self._secret, name.encode(), hashlib.sha256).hexdigest())

    @property
    def fingerprint(self) -> str:
        """Tells secrets apart without revealing them (an index built under another secret
        cannot match names until it is rebuilt from the catalog)."""
        return self.name("\ue000fingerprint")[-12:]


def mask_token(masked: str) -> str:
    """The token of a masked name (王*英); '' when the text is not one."""
    masked = _clean(masked)
    if not masked or not MASKED.fullmatch(masked):
        return ""
    return _token(MASK_PREFIX, hashlib.sha256(masked.encode()).hexdigest())


def name_tokens(keys: NameKeys, subject_name: str, subject_mask: str) -> list[str]:
    """A document's name token and mask token (those it has)."""
    return [t for t in (keys.name(subject_name or ""), mask_token(subject_mask or "")) if t]


def name_spans(run: str) -> list[tuple[int, int]]:
    """(start, end) of the pieces of a run of Chinese characters that may be a full name: a
    known surname and one to three more characters (one or two after a compound surname), at
    the start of the run or at its end, where people put a name (王秀英结婚登记, 结婚登记王秀英).
    A surname inside the words (审查处理表) is no name: each reading costs a search."""
    spans = []
    for length in range(MAX_NAME, MIN_NAME - 1, -1):
        for start in dict.fromkeys((0, len(run) - length)):
            if 0 <= start and start + length <= len(run) and _is_name(run[start:start + length]):
                spans.append((start, start + length))
    return sorted(spans, key=lambda s: (s[0] != 0, -(s[1] - s[0])))


def _is_name(piece: str) -> bool:
    if piece[:2] in COMPOUND_SURNAMES:
        return len(piece) >= 3
    return piece[0] in SINGLE_SURNAMES and len(piece) >= MIN_NAME
