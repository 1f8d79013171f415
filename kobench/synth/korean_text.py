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


# --- OCR material (lines, paragraphs, page blocks for notices, forms and signs) ---

_OCR_SENTENCES = (
    "본 안내문은 {month}월 {day}일부터 적용됩니다.",
    "{place} 이용 시간은 오전 {hour}시부터 오후 6시까지입니다.",
    "택배는 {dong}동 경비실에 맡겨 두었습니다.",
    "엘리베이터 점검으로 {day}일 오전에는 계단을 이용해 주세요.",
    "환불은 구매일로부터 {days}일 이내에만 가능합니다.",
    "제출 서류는 원본과 사본 각 {copies}부입니다.",
    "영수증을 지참하시면 {days}일 이내 교환이 가능합니다.",
    "회의 자료는 A4 용지에 {copies}부씩 출력해 주세요.",
    "{name} 고객님의 적립 포인트는 {points}점입니다.",
    "USB 포트에 연결한 뒤 전원 버튼을 {sec}초간 누르세요.",
    "{company} 고객센터 운영 시간이 변경되었습니다.",
    "신청서는 {month}월 {day}일까지 {place}에 제출하세요.",
    "오늘 미세먼지는 {grade} 수준이니 마스크를 착용하세요.",
    "우천 시 {event}{eun_neun} {place}에서 진행됩니다.",
    "결제 금액 {amount}이 승인되었습니다.",
    "다음 정류장은 {road} 입구입니다.",
    "이번 달 관리비 납부 기한은 {day}일입니다.",
    "{name} 님의 예약이 {month}월 {day}일 {hour}시로 확정되었습니다.",
    "{name} 님, {month}월 {day}일 진료 예약을 안내해 드립니다.",
    "{company} 면접은 {month}월 {day}일 오전 {hour}시입니다.",
    "{place} 냉난방기 점검이 {day}일에 예정되어 있습니다.",
    "보안을 위해 비밀번호를 {copies}개월마다 변경해 주세요.",
    "{road} 일대 도로 공사로 오전 {hour}시까지 통제됩니다.",
    "고객님의 주문번호는 {order}입니다.",
    "본 제품의 품질 보증 기간은 구입일로부터 {copies}년입니다.",
    "{month}월 {day}일은 정기 휴무일입니다.",
    "{event} 참가자는 {place}{euro} 모여 주세요.",
    "인증번호 {code}를 입력해 주세요.",
)
_NOTICE_TITLES = ("공지사항", "안내", "알림", "협조 요청", "긴급 공지", "변경 안내", "이용 안내", "모집 공고")
_FORM_TITLES = (
    "참가 신청서",
    "휴가 신청서",
    "물품 구매 요청서",
    "방문 신청서",
    "시설 대여 신청서",
    "회원 가입 신청서",
    "경위서",
    "출장 보고서",
    "재직 증명서",
    "견적 요청서",
)
_SIGN_TEXTS = (
    "관계자 외 출입금지",
    "금연 구역",
    "CCTV 녹화 중",
    "비상구",
    "미끄럼 주의",
    "머리 조심",
    "소화기 비치",
    "정숙",
    "주차 금지",
    "개방 시간 안내",
    "분리수거함",
    "외부인 출입 통제",
)
_DEPARTMENTS = (
    "총무팀",
    "인사팀",
    "시설관리팀",
    "경영지원팀",
    "고객지원팀",
    "관리사무소",
    "행정실",
    "영업부",
)
_AUDIENCES = ("전 직원", "입주민 여러분", "신입사원", "학부모님", "방문객", "3학년 재학생", "회원 여러분")


def _ocr_slots(rng: random.Random) -> dict[str, object]:
    place = rng.choice(PLACES)
    event = rng.choice(EVENTS)
    return {
        "place": place,
        "event": event,
        "name": person_name(rng),
        "company": company_name(rng),
        "month": rng.randint(1, 12),
        "day": rng.randint(1, 28),
        "hour": rng.randint(8, 11),
        "days": rng.choice((7, 14, 30)),
        "points": f"{rng.randint(1, 999) * 10:,}",
        "amount": won(rng.randint(1, 900) * 100),
        "road": rng.choice(ROADS),
        "eun_neun": "은" if has_batchim(event) else "는",
        "euro": "으로" if has_batchim(place) and (ord(place[-1]) - 0xAC00) % 28 != 8 else "로",  # ㄹ: 로
        "dong": rng.randint(101, 120),
        "copies": rng.randint(2, 6),
        "sec": rng.randint(3, 10),
        "grade": rng.choice(("나쁨", "매우 나쁨")),
        "order": f"{rng.choice('ABCKR')}{rng.randint(10**6, 10**7 - 1)}",
        "code": f"{rng.randint(0, 999999):06d}",
    }


def ocr_sentence(rng: random.Random) -> str:
    """One sentence as printed on notices, messages and receipts (the base sentences plus more)."""
    if rng.random() < 0.3:
        return sentence(rng)
    return rng.choice(_OCR_SENTENCES).format(**_ocr_slots(rng))


def priced_item(rng: random.Random) -> tuple[str, int]:
    """A quotation or receipt line (item, quantity with its unit, amount) and its amount in won."""
    item, unit, low, high = rng.choice(ITEMS)
    quantity = rng.randint(1, 3) if unit in ("식", "건", "대") else rng.randint(1, 12)
    price = rng.randrange(low, high + 1, 100)
    total = price * quantity
    style = rng.randrange(3)
    if style == 0:
        return f"{item} {quantity}{unit} {won(total)}", total
    if style == 1:
        return f"{item} x{quantity} {total:,}", total
    return f"{item} {quantity}{unit} @{price:,}", total


def item_line(rng: random.Random) -> str:
    """A quotation or receipt line: item, quantity with its unit, and the amount."""
    return priced_item(rng)[0]


def field_line(rng: random.Random) -> str:
    """A labelled field as on forms, letters and receipts ("연락처: 010-1234-5678")."""
    kind = rng.randrange(14)
    sep = rng.choice((": ", " ", " : "))
    ymd = date(rng)
    if kind == 0:
        return f"{rng.choice(('성명', '이름', '담당자', '신청인', '대표자'))}{sep}{person_name(rng)}"
    if kind == 1:
        label = rng.choice(("연락처", "전화", "휴대폰", "Tel.", "FAX"))
        number = phone(rng)
        while (label == "FAX") == number.startswith("010") and label in ("FAX", "휴대폰"):
            number = phone(rng)
        return f"{label}{sep}{number}"
    if kind == 2:
        return f"{rng.choice(('주소', '배송지', '소재지'))}{sep}{address(rng)}"
    if kind == 3:
        label = rng.choice(("작성일", "발행일", "신청일", "계약일", "납기일", "유효기간"))
        return f"{label}{sep}{format_date(ymd, rng.randrange(3))}"
    if kind == 4:
        return f"{rng.choice(('합계 금액', '총액', '공급가액', '결제 금액', '부가세'))}{sep}{won(rng.randint(1, 9999) * 1000)}"
    if kind == 5:
        return f"일금 {korean_amount(rng.randint(1, 9999) * 1000)}원정"
    if kind == 6:
        return f"사업자등록번호{sep}{business_number(rng)}"
    if kind == 7:
        return f"{company_name(rng)} 대표이사 {person_name(rng)}"
    if kind == 8:
        return f"주문번호{sep}{rng.choice('ABCDKR')}{rng.randint(10**7, 10**8 - 1)}"
    if kind == 9:
        return f"영업시간 오전 {rng.randint(8, 10)}시 ~ 오후 {rng.randint(6, 10)}시"
    if kind == 10:
        return f"{rng.choice(('소속', '부서'))}{sep}{rng.choice(COMPANY_HEAD)}{rng.choice(COMPANY_TAIL)} {rng.choice(_DEPARTMENTS)}"
    if kind == 11:
        return f"{rng.choice(PLACES)} {rng.randint(1, 12)}번 {rng.choice(('좌석', '사물함', '출구'))}"
    if kind == 12:
        return f"{format_date(ymd, 0)} {rng.choice(('월', '화', '수', '목', '금'))}요일"
    return f"{rng.choice(EVENTS)} 참가비 {won(rng.randint(1, 30) * 5000)}"


def ocr_line(rng: random.Random, min_chars: int = 6, max_chars: int = 40) -> str:
    """One printed line of realistic Korean (sentence, field, item, address, name ...), NFC."""
    while True:
        kind = rng.random()
        if kind < 0.35:
            text = ocr_sentence(rng)
        elif kind < 0.7:
            text = field_line(rng)
        elif kind < 0.82:
            text = item_line(rng)
        elif kind < 0.9:
            text = address(rng)
        elif kind < 0.95:
            text = f"{company_name(rng)} {rng.choice(_DEPARTMENTS)}"
        else:
            text = f"{person_name(rng)} {rng.choice(('드림', '올림', '과장', '대리', '팀장', '선생님'))}"
        if min_chars <= len(text) <= max_chars:
            return text


def ocr_paragraph(rng: random.Random, sentences: int = 2) -> str:
    """A few sentences of running text (to be wrapped into lines by the renderer)."""
    return " ".join(ocr_sentence(rng) for _ in range(sentences))


def wrap_words(text: str, width: int) -> list[str]:
    """Greedy word wrap at spaces: lines of at most `width` characters (a longer word stands alone)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def page_blocks(rng: random.Random, kind: str, count: int | None = None) -> list[tuple[str, str]]:
    """Text blocks of a notice / form / sign / receipt page as (role, text); role is "title",
    "subtitle", "body" or "footer": 4-6 blocks, exactly `count` (4-6) when given. The caller
    checks that no text repeats or contains another."""
    if count is not None and not 4 <= count <= 6:
        raise ValueError(f"a page has 4-6 text blocks, not {count}")
    subtitle = kind in ("notice", "sign") and rng.random() < 0.3
    lines = rng.randint(2, 4 - subtitle) if count is None else count - 2 - subtitle  # body lines
    if lines < 2:
        subtitle, lines = False, lines + 1
    ymd = date(rng)
    if kind == "notice":
        event = rng.choice(EVENTS)
        title = rng.choice((f"{event} 안내", rng.choice(_NOTICE_TITLES), f"{event} 일정 변경 안내"))
        body = [
            f"일시: {format_date(ymd, rng.choice((0, 2)))} 오후 {rng.randint(1, 6)}시",
            f"장소: {rng.choice(PLACES)}",
            f"대상: {rng.choice(_AUDIENCES)}",
            f"문의: {phone(rng)}",
            f"준비물: {rng.choice(('신분증', '필기도구', '개인 노트북', '실내화', 'USB 메모리'))}",
        ]
        footer = f"{rng.choice(COMPANY_HEAD)}{rng.choice(COMPANY_TAIL)} {rng.choice(_DEPARTMENTS)}"
    elif kind == "form":
        title = rng.choice(_FORM_TITLES)
        body = [
            f"성명: {person_name(rng)}",
            f"연락처: {phone(rng)}",
            f"소속: {rng.choice(COMPANY_HEAD)}{rng.choice(COMPANY_TAIL)}",
            f"신청일: {format_date(ymd, rng.randrange(3))}",
            f"주소: {address(rng)}",
            f"사업자등록번호: {business_number(rng)}",
        ]
        footer = f"{person_name(rng)} (서명)"
    elif kind == "sign":
        title = rng.choice(_SIGN_TEXTS)
        body = [
            f"위반 시 과태료 {rng.randint(1, 10) * 10}만원 부과",
            f"{rng.choice(PLACES)} {rng.choice(('방향', '입구', '출입구'))}",
            f"운영 시간 {rng.randint(6, 10):02d}:00 ~ {rng.randint(18, 23)}:00",
            f"긴급 연락처 {phone(rng)}",
            rng.choice(("CCTV 24시간 녹화 중", "반려동물 출입 금지", "음식물 반입 금지", "Wi-Fi 무료")),
        ]
        footer = f"{rng.choice(REGIONS[rng.choice(list(REGIONS))])} {rng.choice(_DEPARTMENTS)}"
    else:  # receipt: items, the total that adds them up, sometimes the time of sale
        title = f"{rng.choice(COMPANY_HEAD)}{rng.choice(('마트', '문구', '카페', '식당', '약국', '서점'))}"
        timed = lines >= 3 and rng.random() < 0.5
        items = [priced_item(rng) for _ in range(lines - 1 - timed)]
        body = [text for text, _ in items] + [f"합계 {won(sum(amount for _, amount in items))}"]
        if timed:
            body.append(f"거래일시 {format_date(ymd, 1)} {rng.randint(9, 21)}:{rng.randint(0, 59):02d}")
        footer = f"사업자 {business_number(rng)}"
    blocks = [("title", title)]
    if subtitle:
        blocks.append(("subtitle", rng.choice(_AUDIENCES) + "께 알려 드립니다"))
    if kind != "receipt":  # a receipt keeps its order
        body = rng.sample(body, lines)
    blocks += [("body", text) for text in body]
    blocks.append(("footer", footer))
    return blocks
