"""Korean text material for generated benchmarks: names, addresses, companies, items, dates, amounts,
sentences. Written for kobench (no third-party corpus); every function takes a random.Random."""

from __future__ import annotations

import random

FAMILY = (
    "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 전 홍 고 문 양 손 배 백 허 유 남 심 노 하 곽 성 "
    "차 주 우 구 민 진 나 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 연 위 표 명 기 반 왕 금 "
    "옥 육 인 맹 제 모 탁 국 어 은 편 용 예 경 봉 황보 남궁 선우 제갈"
).split()
GIVEN = (
    "민준 서연 도윤 지우 하준 서윤 시우 하은 주원 지유 예준 수아 지호 지민 건우 채원 현우 윤서 우진 다은 "
    "선우 은서 연우 예은 정우 소율 승우 하린 준서 지아 영수 영희 철수 미숙 정희 순자 상훈 경민 성민 혜진 "
    "은정 지훈 동현 수빈 재원 현정 민지 태호 보람 슬기 광수 명숙 병철 춘자 용준 숙희 기현 나래 한결 가람"
).split()
REGIONS = {
    "서울특별시": "강남구 서초구 마포구 종로구 송파구 영등포구 용산구 성동구 관악구 노원구 중구 강서구".split(),
    "부산광역시": "해운대구 수영구 부산진구 동래구 사하구 남구".split(),
    "대구광역시": "수성구 중구 달서구 북구".split(),
    "인천광역시": "연수구 남동구 부평구 미추홀구".split(),
    "광주광역시": "서구 북구 광산구 동구".split(),
    "대전광역시": "유성구 서구 중구 대덕구".split(),
    "울산광역시": "남구 중구 북구".split(),
    "경기도": "수원시 영통구|성남시 분당구|고양시 일산동구|용인시 수지구|안양시 동안구|화성시".split("|"),
    "강원특별자치도": "춘천시 원주시 강릉시".split(),
    "충청북도": "청주시 흥덕구|충주시".split("|"),
    "전북특별자치도": "전주시 완산구|군산시".split("|"),
    "경상남도": "창원시 성산구|김해시|진주시".split("|"),
    "제주특별자치도": "제주시 서귀포시".split(),
}
ROADS = (
    "테헤란로 강남대로 세종대로 올림픽로 양화로 반포대로 해운대로 중앙대로 달구벌대로 경인로 상무대로 대학로 "
    "한밭대로 번영로 월드컵로 을지로 도산대로 영동대로 동일로 가야대로 충장로 판교역로 광교중앙로"
).split()
COMPANY_HEAD = "한빛 대한 미래 새한 동양 태평양 한솔 우리 하나 세종 청솔 누리 다온 가온 한울 보람 으뜸 푸른 바른 신성 금강 삼정".split()
COMPANY_TAIL = "테크 산업 상사 물산 건설 정보통신 식품 유통 전자 디자인 제약 소프트 에너지 물류 인쇄 컴퍼니 솔루션".split()
# (item, unit, lowest unit price, highest unit price) in won
ITEMS = (
    ("A4 복사용지", "박스", 25_000, 35_000),
    ("볼펜(흑색)", "다스", 6_000, 12_000),
    ("레이저 프린터 토너", "개", 80_000, 150_000),
    ("무선 마우스", "개", 15_000, 45_000),
    ("27인치 모니터", "대", 250_000, 450_000),
    ("노트북 거치대", "개", 20_000, 60_000),
    ("사무용 의자", "개", 120_000, 350_000),
    ("USB 메모리 64GB", "개", 12_000, 25_000),
    ("클리어 파일", "권", 2_000, 5_000),
    ("회의용 테이블", "개", 300_000, 800_000),
    ("생수 2L", "박스", 5_000, 9_000),
    ("커피 원두 1kg", "봉", 18_000, 35_000),
    ("종이컵", "박스", 15_000, 30_000),
    ("외장 하드 1TB", "개", 60_000, 110_000),
    ("유지보수 용역", "식", 500_000, 3_000_000),
    ("웹사이트 디자인", "식", 1_000_000, 5_000_000),
    ("포장용 박스", "묶음", 8_000, 20_000),
    ("물티슈", "박스", 9_000, 16_000),
    ("소독용 에탄올", "통", 7_000, 15_000),
    ("배달 도시락", "개", 7_000, 13_000),
    ("현수막 제작", "건", 40_000, 120_000),
    ("명함 인쇄", "통", 15_000, 30_000),
)
PLACES = "대회의실|본관 로비|2층 세미나실|구청 민원실|도서관 열람실|체육관|주민센터 강당|정문 앞 광장|지하 주차장".split(
    "|"
)
EVENTS = "정기 회의|안전 교육|신입사원 환영회|건강 검진|소방 훈련|작품 전시회|벼룩시장|사업 설명회|채용 박람회|독서 모임".split(
    "|"
)
SENTENCE_TEMPLATES = (
    "{place}에서 {month}월 {day}일 오후 {hour}시에 {event}{i_ga} 열립니다.",
    "{name} 님, 주문하신 {item}{i_ga} {month}월 {day}일에 발송되었습니다.",
    "문의 사항은 {phone}{euro} 연락해 주시기 바랍니다.",
    "{company}의 {year}년 매출은 전년보다 {pct}% 증가했습니다.",
    "주차장 이용 시 차량 번호를 안내 데스크에 등록해 주세요.",
    "{event} 참가 신청은 {month}월 {day}일까지 받습니다.",
    "이 제품은 {hour}시간 이상 충전해야 정상적으로 작동합니다.",
    "{place}{eun_neun} 공사 관계로 {month}월 {day}일부터 이용할 수 없습니다.",
    "{name} 과장님께서 {event} 준비를 맡아 주셨습니다.",
    "배송지 주소: {address}",
    "오늘의 점심 메뉴는 김치찌개, 계란말이, 잡곡밥입니다.",
    "분리수거는 매주 화요일과 금요일 저녁에 해 주세요.",
)


def has_batchim(word: str) -> bool:
    """Does the last Hangul syllable end in a final consonant (decides 이/가, 은/는, 으로/로)?"""
    last = word.rstrip()[-1:]
    return bool(last) and "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def person_name(rng: random.Random) -> str:
    return rng.choice(FAMILY) + rng.choice(GIVEN)


def company_name(rng: random.Random) -> str:
    name = rng.choice(COMPANY_HEAD) + rng.choice(COMPANY_TAIL)
    return rng.choice((f"(주){name}", f"주식회사 {name}", f"{name}(주)", name))


def address(rng: random.Random) -> str:
    region = rng.choice(list(REGIONS))
    district = rng.choice(REGIONS[region])
    road = rng.choice(ROADS)
    number = rng.randint(1, 480)
    extra = rng.choice(
        ("", f", {rng.randint(2, 15)}층", f" {rng.randint(101, 120)}동 {rng.randint(101, 1504)}호")
    )
    return f"{region} {district} {road} {number}{extra}"


def phone(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    area = rng.choice(("02", "031", "051", "053", "062", "042", "064"))
    return f"{area}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def business_number(rng: random.Random) -> str:
    return f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(10000, 99999)}"


def date(rng: random.Random, year: int | None = None) -> tuple[int, int, int]:
    return (year or rng.randint(2023, 2026), rng.randint(1, 12), rng.randint(1, 28))


def format_date(ymd: tuple[int, int, int], style: int = 0) -> str:
    y, m, d = ymd
    return (f"{y}년 {m}월 {d}일", f"{y}-{m:02d}-{d:02d}", f"{y}.{m:02d}.{d:02d}")[style % 3]


def won(amount: int) -> str:
    return f"{amount:,}원"


_DIGITS = "영일이삼사오육칠팔구"
_SMALL = ((1000, "천"), (100, "백"), (10, "십"))
_LARGE = ((10**12, "조"), (10**8, "억"), (10**4, "만"))


def korean_amount(amount: int) -> str:
    """Sino-Korean numerals as written on a quotation: 1,234,000 -> 일백이십삼만사천."""

    def below_10000(n: int) -> str:
        out = ""
        for unit, name in _SMALL:
            if n >= unit:
                out += _DIGITS[n // unit] + name
                n %= unit
        return out + (_DIGITS[n] if n else "")

    if amount == 0:
        return "영"
    out = ""
    for unit, name in _LARGE:
        if amount >= unit:
            out += below_10000(amount // unit) + name
            amount %= unit
    return out + below_10000(amount)


def sentence(rng: random.Random) -> str:
    item = rng.choice(ITEMS)[0]
    event = rng.choice(EVENTS)
    place = rng.choice(PLACES)
    phone_number = phone(rng)
    slots = {
        "place": place,
        "event": event,
        "item": item,
        "name": person_name(rng),
        "company": company_name(rng),
        "address": address(rng),
        "phone": phone_number,
        "month": rng.randint(1, 12),
        "day": rng.randint(1, 28),
        "hour": rng.randint(1, 9),
        "year": rng.randint(2019, 2025),
        "pct": rng.randint(2, 38),
        # particles agree with the word before them
        "i_ga": "",
        "eun_neun": "은" if has_batchim(place) else "는",
        "euro": "으로" if phone_number[-1] in "036" else "로",  # 영/삼/육 end in a consonant (not ㄹ)
    }
    template = rng.choice(SENTENCE_TEMPLATES)
    if "{item}{i_ga}" in template:
        slots["i_ga"] = "이" if has_batchim(item) else "가"
    elif "{event}{i_ga}" in template:
        slots["i_ga"] = "이" if has_batchim(event) else "가"
    return template.format(**slots)
