"""Korean regions (시군구) used by the simulated company, with commuting and travel structure."""

from __future__ import annotations

# Every region the simulation uses; merchants exist in each.
REGIONS: list[str] = [
    "서울 중구",
    "서울 종로구",
    "서울 강남구",
    "서울 서초구",
    "서울 송파구",
    "서울 영등포구",
    "서울 마포구",
    "서울 용산구",
    "서울 강서구",
    "서울 노원구",
    "서울 관악구",
    "서울 성동구",
    "경기 성남시",
    "경기 수원시",
    "경기 용인시",
    "경기 고양시",
    "경기 화성시",
    "경기 평택시",
    "경기 안양시",
    "경기 부천시",
    "경기 남양주시",
    "인천 연수구",
    "인천 남동구",
    "부산 해운대구",
    "부산 부산진구",
    "부산 남구",
    "부산 동래구",
    "대구 수성구",
    "대구 중구",
    "대전 유성구",
    "대전 서구",
    "광주 서구",
    "광주 북구",
    "울산 남구",
    "울산 중구",
    "울산 북구",
    "경남 창원시",
    "경남 김해시",
    "세종 세종시",
    "충남 천안시",
    "충북 청주시",
    "전북 전주시",
    "강원 춘천시",
    "강원 강릉시",
    "제주 제주시",
    "제주 서귀포시",
    "경북 경주시",
    "경북 포항시",
    "전남 여수시",
]
REGION_INDEX: dict[str, int] = {name: i for i, name in enumerate(REGIONS)}

# Workplaces by job family, with the share of that family working there.
WORKPLACES: dict[str, dict[str, float]] = {
    "sales": {
        "서울 중구": 0.55,
        "부산 해운대구": 0.12,
        "대구 수성구": 0.1,
        "대전 유성구": 0.1,
        "광주 서구": 0.13,
    },
    "field_operations": {"울산 남구": 0.45, "경기 평택시": 0.35, "경남 창원시": 0.2},
    "rnd": {"경기 성남시": 0.8, "대전 유성구": 0.2},
    "back_office": {"서울 중구": 1.0},
    "executive": {"서울 중구": 0.85, "울산 남구": 0.15},
}

# Where people working in a region live (besides the region itself).
COMMUTE: dict[str, list[str]] = {
    "서울 중구": [
        "서울 종로구",
        "서울 마포구",
        "서울 용산구",
        "서울 송파구",
        "서울 노원구",
        "서울 관악구",
        "서울 성동구",
        "서울 강서구",
        "서울 강남구",
        "서울 서초구",
        "경기 고양시",
        "경기 성남시",
        "경기 부천시",
        "경기 남양주시",
        "경기 안양시",
        "경기 용인시",
    ],
    "경기 성남시": ["서울 강남구", "서울 송파구", "서울 서초구", "경기 용인시", "경기 수원시", "경기 안양시"],
    "경기 평택시": ["경기 화성시", "경기 수원시", "충남 천안시", "경기 용인시"],
    "울산 남구": ["울산 중구", "울산 북구", "부산 해운대구", "경북 경주시"],
    "경남 창원시": ["경남 김해시", "부산 부산진구"],
    "부산 해운대구": ["부산 부산진구", "부산 남구", "부산 동래구"],
    "대구 수성구": ["대구 중구"],
    "대전 유성구": ["대전 서구", "세종 세종시", "충북 청주시"],
    "광주 서구": ["광주 북구"],
}

# Business-trip destinations (weights); a trip never goes to the traveller's own work region.
TRIP_DESTINATIONS: dict[str, float] = {
    "서울 중구": 0.12,
    "서울 강남구": 0.08,
    "서울 영등포구": 0.05,
    "경기 성남시": 0.06,
    "경기 수원시": 0.04,
    "경기 화성시": 0.04,
    "경기 평택시": 0.05,
    "인천 연수구": 0.03,
    "부산 부산진구": 0.06,
    "부산 해운대구": 0.03,
    "대구 중구": 0.05,
    "대전 서구": 0.04,
    "대전 유성구": 0.03,
    "광주 서구": 0.04,
    "울산 남구": 0.07,
    "경남 창원시": 0.05,
    "세종 세종시": 0.04,
    "충남 천안시": 0.03,
    "충북 청주시": 0.03,
    "전북 전주시": 0.02,
    "경북 포항시": 0.03,
    "강원 춘천시": 0.01,
    "제주 제주시": 0.01,
}


def short_name(region: str) -> str:
    """The district part of a region without its suffix, used in store names (강남, 해운대)."""
    district = region.split(" ", 1)[1]
    if len(district) > 2 and district[-1] in "구시군":
        return district[:-1]
    return district
