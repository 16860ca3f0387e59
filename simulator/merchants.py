"""Korean merchants: names, 업종 and MCC from the issuer's category map, regions, business numbers."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.regions import REGIONS, short_name

CATEGORY_MAP_FILE = (
    Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "merchant_category_map.csv"
)

# Stores per region and category; categories absent here get none.
STORES_PER_REGION: dict[str, int] = {
    "한식": 14, "중식": 5, "일식": 6, "양식": 5, "고깃집": 8, "분식": 6, "패스트푸드": 3, "구내식당": 1,
    "카페": 8, "제과점": 3, "일반주점": 5, "호프": 5, "와인바": 2, "택시": 3, "주유소": 4, "주차": 3,
    "통행료": 1, "철도": 1, "고속버스": 1, "항공": 1, "렌터카": 2, "호텔": 4, "모텔": 3, "사무용품": 3,
    "서적": 2, "인쇄": 3, "택배": 2, "통신": 2, "교육세미나": 2, "전자제품": 3, "편의점": 8, "약국": 3,
    "꽃집": 3, "대형마트": 3, "백화점": 2, "면세점": 1, "상품권": 2, "기프트카드": 1, "유흥주점": 3,
    "룸살롱": 2, "단란주점": 2, "나이트클럽": 1, "노래방": 4, "안마": 2, "발마사지": 1, "사우나": 2,
    "피부관리": 2, "이미용": 3, "골프장": 1, "스크린골프": 3, "골프연습장": 2, "골프용품": 1, "당구장": 2,
    "볼링장": 1, "귀금속": 1, "병의원": 3, "성형외과": 1, "학원": 2, "웨딩홀": 1, "오락실": 1, "복권방": 1,
}  # fmt: skip

NAME_TEMPLATES: dict[str, list[str]] = {
    "한식": ["{x}한정식", "{x}식당", "{x} 김치찌개", "{x}국밥", "{x}순두부", "{x}백반", "{x}칼국수"],
    "중식": ["{x}반점", "{x}각", "{x}루", "차이나 {x}"],
    "일식": ["스시{x}", "{x}초밥", "{x}돈카츠", "{x}우동", "{x} 오마카세"],
    "양식": ["{x} 파스타", "비스트로 {x}", "{x} 스테이크하우스", "트라토리아 {x}"],
    "고깃집": ["{x}갈비", "{x}한우", "{x}숯불구이", "{x}삼겹살", "{x}정육식당"],
    "분식": ["{x}김밥", "{x}분식", "{x}떡볶이"],
    "패스트푸드": ["맥도날드 {p}점", "버거킹 {p}점", "롯데리아 {p}점", "맘스터치 {p}점"],
    "구내식당": ["(주){x}푸드 {p}사업장", "{x}푸드서비스 {p}점"],
    "카페": ["스타벅스 {p}{n}점", "투썸플레이스 {p}점", "이디야커피 {p}{n}점", "메가커피 {p}점", "카페 {x}"],
    "제과점": ["파리바게뜨 {p}{n}점", "뚜레쥬르 {p}점", "{x}베이커리"],
    "일반주점": ["{x} 포차", "{x} 이자카야", "{x}주막", "{x} 술집"],
    "호프": ["{x}호프", "치킨앤호프 {x}", "{x} 비어하우스"],
    "와인바": ["와인바 {x}", "{x} 와인라운지"],
    "택시": ["{p}운수(주)", "{p}택시(주)", "카카오T 택시"],
    "주유소": ["SK에너지 {p}주유소", "GS칼텍스 {p}주유소", "S-OIL {p}주유소", "HD현대오일뱅크 {p}주유소"],
    "주차": ["{p} 공영주차장", "{x}파킹", "{p}역 환승주차장"],
    "통행료": ["한국도로공사"],
    "철도": ["한국철도공사"],
    "고속버스": ["{p}고속버스터미널"],
    "항공": ["대한항공", "아시아나항공", "제주항공", "진에어", "티웨이항공"],
    "렌터카": ["롯데렌터카 {p}지점", "SK렌터카 {p}지점"],
    "호텔": ["호텔 {x} {p}", "{p} {x}호텔", "롯데시티호텔 {p}", "신라스테이 {p}", "라마다 {p}"],
    "모텔": ["{x}모텔", "호텔 {x}"],
    "사무용품": ["{x}문구", "오피스디포 {p}점", "알파문구 {p}점"],
    "서적": ["교보문고 {p}점", "영풍문고 {p}점", "{x}서점"],
    "인쇄": ["{x}인쇄", "{x}기획", "{x}디자인인쇄"],
    "택배": ["CJ대한통운 {p}대리점", "한진택배 {p}집배점", "{p}우체국"],
    "통신": ["KT {p}지사", "SK텔레콤 {p}대리점", "LG유플러스 {p}점"],
    "교육세미나": ["(사){x}교육원", "{x}아카데미", "한국{x}협회", "{x}경영연구원"],
    "전자제품": ["롯데하이마트 {p}점", "삼성스토어 {p}점", "LG전자 베스트샵 {p}점", "{x}전자"],
    "편의점": ["GS25 {p}{n}호점", "CU {p}{n}점", "세븐일레븐 {p}{n}점", "이마트24 {p}점"],
    "약국": ["{x}약국"],
    "꽃집": ["{x}플라워", "{x}꽃집", "{x}화원"],
    "대형마트": ["이마트 {p}점", "홈플러스 {p}점", "롯데마트 {p}점", "코스트코 {p}점"],
    "백화점": ["롯데백화점 {p}점", "현대백화점 {p}점", "신세계백화점 {p}점", "갤러리아 {p}점"],
    "면세점": ["롯데면세점 {p}점", "신라면세점 {p}점"],
    "상품권": ["{x}상품권", "{p} 상품권 거래소", "{x}티켓"],
    "기프트카드": ["{x}기프트", "{x} 기프트카드"],
    "유흥주점": ["{x}", "클럽 {x}", "{x} 라운지"],
    "룸살롱": ["{x}", "{x} 살롱"],
    "단란주점": ["{x}단란주점", "{x}"],
    "나이트클럽": ["{x}나이트"],
    "노래방": ["{x}노래연습장", "{x}코인노래방", "{x}노래타운"],
    "안마": ["{x}안마원", "{x} 테라피"],
    "발마사지": ["{x}발마사지"],
    "사우나": ["{x}사우나", "{x}찜질방"],
    "피부관리": ["{x}에스테틱", "{x}피부관리실"],
    "이미용": ["{x}헤어", "{x}미용실"],
    "골프장": ["{x}컨트리클럽", "{x}CC"],
    "스크린골프": ["골프존 {p}{n}호점", "{x}스크린골프"],
    "골프연습장": ["{x}골프연습장", "{x}골프클럽"],
    "골프용품": ["{x}골프", "골프존마켓 {p}점"],
    "당구장": ["{x}당구클럽"],
    "볼링장": ["{x}볼링센터"],
    "귀금속": ["{x}주얼리", "{x}금은방"],
    "병의원": ["{x}내과의원", "{x}정형외과", "{x}치과의원"],
    "성형외과": ["{x}성형외과"],
    "학원": ["{x}영어학원", "{x}수학학원"],
    "웨딩홀": ["{x}웨딩홀", "더{x}컨벤션"],
    "오락실": ["{x}게임랜드"],
    "복권방": ["{x}복권방"],
}

WORDS: list[str] = [
    "한솔",
    "미래",
    "행복",
    "청담",
    "하늘",
    "우리",
    "명가",
    "소담",
    "정원",
    "별빛",
    "다온",
    "가온",
    "해담",
    "수라",
    "진미",
    "온누리",
    "새봄",
    "푸른",
    "백년",
    "황금",
    "동해",
    "남산",
    "금강",
    "한라",
    "솔향",
    "바다",
    "달빛",
    "초록",
    "이화",
    "고향",
    "옛날",
    "본가",
    "원조",
    "늘봄",
    "은행나무",
    "느티나무",
    "소나무",
    "참숯",
    "한마음",
    "정성",
    "으뜸",
    "제일",
    "로얄",
    "그랜드",
    "스마일",
    "해피",
    "블루",
    "그린",
    "골든",
    "스타",
    "미소",
    "다정",
    "한빛",
    "가람",
    "누리",
    "보람",
    "새날",
    "아리",
    "여울",
    "시원",
    "맛나",
    "장수",
    "대가",
    "명인",
    "신선",
    "풍년",
    "만복",
    "복덩이",
    "청수",
    "서울",
    "호수",
    "산들",
    "하이",
    "에이스",
]


@dataclass
class Categories:
    """The issuer's category map (dbt seed merchant_category_map)."""

    names: list[str]
    mcc: list[str]
    group: list[str]
    is_bar: np.ndarray

    @classmethod
    def load(cls, path: Path = CATEGORY_MAP_FILE) -> Categories:
        with path.open(encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle) if row["merchant_category"]]
        return cls(
            names=[row["merchant_category"] for row in rows],
            mcc=[row["mcc"] for row in rows],
            group=[row["category_group"] for row in rows],
            is_bar=np.array([row["is_bar"] == "true" for row in rows]),
        )

    def index(self, name: str) -> int:
        return self.names.index(name)

    def indices(self, names: list[str]) -> np.ndarray:
        return np.array([self.names.index(name) for name in names], dtype=np.int64)


def business_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 사업자등록번호 strings ``000-00-00000`` with a valid check digit."""
    body = rng.choice(900_000_000, size=n, replace=False) + 100_000_000
    digits = np.stack([(body // 10**k) % 10 for k in range(8, -1, -1)], axis=1)
    weights = np.array([1, 3, 7, 1, 3, 7, 1, 3, 5])
    total = (digits * weights).sum(axis=1) + (digits[:, 8] * 5) // 10
    check = (10 - total % 10) % 10
    number = body * 10 + check
    text = pd.Series(number).astype(str).str.zfill(10)
    return (text.str[:3] + "-" + text.str[3:5] + "-" + text.str[5:]).to_numpy(dtype=object)


@dataclass
class Merchants:
    """The merchant master, sorted by (region, category) so picking is an offset lookup."""

    frame: pd.DataFrame  # merchant_id, merchant_name, mcc, merchant_category, region, business_no
    region: np.ndarray
    category: np.ndarray
    key_start: np.ndarray
    key_count: np.ndarray
    n_categories: int

    def pick(
        self, rng: np.random.Generator, region: np.ndarray, category: np.ndarray, skew: float = 1.6
    ) -> np.ndarray:
        """One merchant per (region, category) pair, popular stores more often."""
        key = np.asarray(region) * self.n_categories + np.asarray(category)
        count = self.key_count[key]
        if (count == 0).any():
            missing = sorted({int(k) for k in key[count == 0]})[:3]
            raise ValueError(f"no merchant for (region, category) keys {missing}")
        offset = np.floor(count * rng.random(len(key)) ** skew).astype(np.int64)
        return self.key_start[key] + np.minimum(offset, count - 1)


def build_merchants(rng: np.random.Generator, categories: Categories) -> Merchants:
    """Generate every region's stores and their master data."""
    cat_ids, reg_ids = [], []
    for r in range(len(REGIONS)):
        for c, name in enumerate(categories.names):
            count = STORES_PER_REGION.get(name, 0)
            cat_ids += [c] * count
            reg_ids += [r] * count
    category = np.array(cat_ids, dtype=np.int64)
    region = np.array(reg_ids, dtype=np.int64)
    n = len(category)
    words = rng.integers(0, len(WORDS), size=n)
    template_u = rng.random(n)
    branch = rng.integers(1, 9, size=n)
    names = []
    for i in range(n):
        templates = NAME_TEMPLATES[categories.names[category[i]]]
        template = templates[int(template_u[i] * len(templates))]
        names.append(template.format(x=WORDS[words[i]], p=short_name(REGIONS[region[i]]), n=str(branch[i])))
    ids = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    frame = pd.DataFrame(
        {
            "merchant_id": ["M" + str(v) for v in ids],
            "merchant_name": names,
            "mcc": [categories.mcc[c] for c in category],
            "merchant_category": [categories.names[c] for c in category],
            "region": [REGIONS[r] for r in region],
            "business_no": business_numbers(rng, n),
        }
    )
    # a chain store keeps one name per region; number branches of the same name apart
    dup = frame.groupby(["region", "merchant_name"]).cumcount()
    name = frame["merchant_name"]
    nth = (dup + 1).astype(str)
    renamed = np.where(name.str.endswith("점"), name.str[:-1] + nth + "점", name + " " + nth + "호점")
    frame["merchant_name"] = np.where(dup > 0, renamed, name)
    n_cat = len(categories.names)
    key = region * n_cat + category
    key_count = np.bincount(key, minlength=len(REGIONS) * n_cat)
    key_start = np.concatenate([[0], np.cumsum(key_count)[:-1]])
    return Merchants(frame, region, category, key_start, key_count, n_cat)
