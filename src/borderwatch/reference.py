"""Reference seeds for the warehouse (``seeds/*.csv``), generated from pycountry plus curated aliases.

ISO codes come from pycountry so they can never drift from the standard; what pycountry does not know
(FIPS 10-4 codes, demonyms in Thai and Khmer, place spellings in four scripts, our sites and agencies)
is curated here in one place. The CSVs are committed; ``python -m borderwatch.reference`` rewrites them
and a test checks the committed files equal the generated ones.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pycountry

from borderwatch.config import REPO_ROOT

UNVERIFIED_ISO3 = "XXU"
"""Nationality not (yet) verified by the reporting agency: ISO 3166 user-assigned range XAA–XZZ."""
ALL_NATIONALITIES = "ALL"
"""Aggregate over every nationality (a feed's own total row); never an ISO code."""

# FIPS 10-4 codes (GDELT and older US data) for the region and for codes that collide with another
# country's ISO alpha-2 (BM is Burma in FIPS but Bermuda in ISO; CH is China but Switzerland in ISO).
FIPS_10_4: dict[str, str] = {
    "THA": "TH", "KHM": "CB", "MMR": "BM", "CHN": "CH", "TWN": "TW", "LAO": "LA", "VNM": "VM",
    "MYS": "MY", "IDN": "ID", "PHL": "RP", "IND": "IN", "BGD": "BG", "NPL": "NP", "PAK": "PK",
    "LKA": "CE", "KEN": "KE", "TZA": "TZ", "ETH": "ET", "BRA": "BR", "SGP": "SN", "KOR": "KS",
    "JPN": "JA", "UGA": "UG", "NGA": "NI", "RUS": "RS", "USA": "US", "GBR": "UK", "CHE": "SZ",
    "BMU": "BD", "CRI": "CS", "DEU": "GM", "ESP": "SP", "AUS": "AS", "AUT": "AU", "BGR": "BU",
    "MNG": "MG", "MDG": "MA", "MAR": "MO", "NER": "NG", "NIC": "NU", "SEN": "SG", "ASM": "AQ",
}  # fmt: skip

# Demonyms and names in English, Thai and Khmer as our feeds write them (country names and alpha-3
# codes from pycountry are added automatically).
NATIONALITY_LABELS: dict[str, list[str]] = {
    "THA": ["Thai", "Thais", "ไทย", "คนไทย", "สัญชาติไทย", "ថៃ", "ជនជាតិថៃ"],
    "CHN": ["Chinese", "PRC", "จีน", "ชาวจีน", "ចិន", "ជនជាតិចិន"],
    "TWN": ["Taiwanese", "ไต้หวัน", "ชาวไต้หวัน", "តៃវ៉ាន់"],
    "IDN": ["Indonesian", "อินโดนีเซีย", "ชาวอินโดนีเซีย", "ឥណ្ឌូណេស៊ី", "ឥណ្ឌូនេស៊ី"],
    "IND": ["Indian", "อินเดีย", "ชาวอินเดีย", "ឥណ្ឌា"],
    "PHL": ["Filipino", "Filipina", "Philippine", "ฟิลิปปินส์", "ហ្វីលីពីន"],
    "VNM": ["Vietnamese", "เวียดนาม", "វៀតណាម"],
    "LAO": ["Lao", "Laotian", "ลาว", "ឡាវ"],
    "MMR": ["Burmese", "Myanmar", "Myanmar national", "เมียนมา", "พม่า", "មីយ៉ាន់ម៉ា", "ភូមា"],
    "KHM": ["Cambodian", "Khmer", "กัมพูชา", "เขมร", "កម្ពុជា", "ខ្មែរ"],
    "MYS": ["Malaysian", "มาเลเซีย", "ម៉ាឡេស៊ី"],
    "KEN": ["Kenyan", "เคนยา"],
    "TZA": ["Tanzanian", "แทนซาเนีย"],
    "BRA": ["Brazilian", "บราซิล"],
    "ETH": ["Ethiopian", "เอธิโอเปีย"],
    "PAK": ["Pakistani", "ปากีสถาน", "ប៉ាគីស្ថាន"],
    "BGD": ["Bangladeshi", "บังกลาเทศ", "บังคลาเทศ", "បង់ក្លាដែស"],
    "NPL": ["Nepali", "Nepalese", "เนปาล", "នេប៉ាល់"],
    "LKA": ["Sri Lankan", "ศรีลังกา", "ស្រីលង្កា"],
    "UGA": ["Ugandan", "ยูกันดา"],
    "NGA": ["Nigerian", "ไนจีเรีย"],
    "KOR": ["Korean", "South Korean", "เกาหลีใต้", "កូរ៉េ"],
    "JPN": ["Japanese", "ญี่ปุ่น", "ជប៉ុន"],
    "SGP": ["Singaporean", "สิงคโปร์"],
    "RUS": ["Russian", "รัสเซีย"],
    "USA": ["American", "อเมริกัน"],
    "GBR": ["British", "อังกฤษ"],
    UNVERIFIED_ISO3: [
        "Unverified", "Unverified nationality", "Nationality not verified", "Pending verification",
        "Unknown", "Unverified / อยู่ระหว่างพิสูจน์สัญชาติ", "อยู่ระหว่างพิสูจน์สัญชาติ",
        "ไม่ทราบสัญชาติ", "មិនទាន់ផ្ទៀងផ្ទាត់",
    ],
    ALL_NATIONALITIES: ["Total", "Total / รวม", "รวม", "All", "All nationalities", "សរុប"],
}  # fmt: skip

# Conventional English and local-script names of the admin-1 areas our feeds mention.
ADMIN_NAMES: dict[str, tuple[str, str]] = {
    "TH-10": ("Bangkok", "กรุงเทพมหานคร"),
    "TH-11": ("Samut Prakan", "สมุทรปราการ"),
    "TH-12": ("Nonthaburi", "นนทบุรี"),
    "TH-13": ("Pathum Thani", "ปทุมธานี"),
    "TH-21": ("Rayong", "ระยอง"),
    "TH-30": ("Nakhon Ratchasima", "นครราชสีมา"),
    "TH-40": ("Khon Kaen", "ขอนแก่น"),
    "TH-41": ("Udon Thani", "อุดรธานี"),
    "TH-65": ("Phitsanulok", "พิษณุโลก"),
    "TH-91": ("Satun", "สตูล"),
    "TH-94": ("Pattani", "ปัตตานี"),
    "TH-95": ("Yala", "ยะลา"),
    "TH-20": ("Chon Buri", "ชลบุรี"),
    "TH-22": ("Chanthaburi", "จันทบุรี"),
    "TH-23": ("Trat", "ตราด"),
    "TH-25": ("Prachin Buri", "ปราจีนบุรี"),
    "TH-27": ("Sa Kaeo", "สระแก้ว"),
    "TH-31": ("Buri Ram", "บุรีรัมย์"),
    "TH-32": ("Surin", "สุรินทร์"),
    "TH-33": ("Si Sa Ket", "ศรีสะเกษ"),
    "TH-34": ("Ubon Ratchathani", "อุบลราชธานี"),
    "TH-38": ("Bueng Kan", "บึงกาฬ"),
    "TH-42": ("Loei", "เลย"),
    "TH-43": ("Nong Khai", "หนองคาย"),
    "TH-48": ("Nakhon Phanom", "นครพนม"),
    "TH-49": ("Mukdahan", "มุกดาหาร"),
    "TH-50": ("Chiang Mai", "เชียงใหม่"),
    "TH-57": ("Chiang Rai", "เชียงราย"),
    "TH-58": ("Mae Hong Son", "แม่ฮ่องสอน"),
    "TH-63": ("Tak", "ตาก"),
    "TH-71": ("Kanchanaburi", "กาญจนบุรี"),
    "TH-83": ("Phuket", "ภูเก็ต"),
    "TH-85": ("Ranong", "ระนอง"),
    "TH-90": ("Songkhla", "สงขลา"),
    "TH-96": ("Narathiwat", "นราธิวาส"),
    "TH-S": ("Pattaya", "พัทยา"),
    "KH-1": ("Banteay Meanchey", "បន្ទាយមានជ័យ"),
    "KH-2": ("Battambang", "បាត់ដំបង"),
    "KH-9": ("Koh Kong", "កោះកុង"),
    "KH-12": ("Phnom Penh", "ភ្នំពេញ"),
    "KH-17": ("Siem Reap", "សៀមរាប"),
    "KH-18": ("Preah Sihanouk", "ព្រះសីហនុ"),
    "KH-22": ("Oddar Meanchey", "ឧត្តរមានជ័យ"),
    "KH-24": ("Pailin", "ប៉ៃលិន"),
    "KH-8": ("Kandal", "កណ្ដាល"),
    "KH-19": ("Stung Treng", "ស្ទឹងត្រែង"),
    "KH-20": ("Svay Rieng", "ស្វាយរៀង"),
    "MM-13": ("Kayin", "ကရင်ပြည်နယ်"),
    "MM-17": ("Shan", "ရှမ်းပြည်နယ်"),
    "MM-11": ("Kachin", "ကချင်ပြည်နယ်"),
    "MM-06": ("Yangon", "ရန်ကုန်တိုင်းဒေသကြီး"),
}

# Further spellings: variants, older romanisations and the towns our feeds give instead of a province.
ADMIN_EXTRA_ALIASES: dict[str, list[str]] = {
    "TH-10": ["Krung Thep", "กรุงเทพฯ", "กรุงเทพ", "BKK city"],
    "TH-27": ["Sakaeo", "Sa Kaew", "Aranyaprathet", "อรัญประเทศ"],
    "TH-31": ["Buriram"],
    "TH-33": ["Sisaket", "Si Saket"],
    "TH-20": ["Chonburi"],
    "TH-63": ["Tak Province", "Mae Sot", "Maesot", "แม่สอด", "Phop Phra", "พบพระ"],
    "TH-57": ["Mae Sai", "แม่สาย"],
    "TH-S": ["Pattaya City", "Phatthaya"],
    "KH-1": ["Banteay Mean Chey", "Poipet", "Poi Pet", "Paoy Paet", "ប៉ោយប៉ែត"],
    "KH-12": ["Phnum Penh"],
    "KH-18": ["Sihanoukville", "Kampong Som"],
    "MM-13": ["Kayin State", "Karen State", "Karen", "Myawaddy", "မြဝတီ", "Shwe Kokko"],
    "MM-17": ["Shan State", "Tachileik", "တာချီလိတ်"],
}

SITE_COLUMNS = ("site_id", "site_type", "name", "country_iso3", "admin1_iso", "counterpart_country_iso3",
                "counterpart_admin1_iso", "iata_code", "note")  # fmt: skip
SITES: list[dict[str, str]] = [
    {"site_id": "cmp_kk_park", "site_type": "scam_compound", "name": "KK Park", "country_iso3": "MMR",
     "admin1_iso": "MM-13", "note": "Myawaddy township, opposite Mae Sot"},
    {"site_id": "cmp_shwe_kokko", "site_type": "scam_compound", "name": "Shwe Kokko", "country_iso3": "MMR",
     "admin1_iso": "MM-13", "note": "Yatai New City, north of Myawaddy"},
    {"site_id": "cmp_poipet", "site_type": "scam_compound", "name": "Poipet compounds", "country_iso3": "KHM",
     "admin1_iso": "KH-1", "note": "compounds in Paoy Paet municipality (national code 0110)"},
    {"site_id": "xing_poipet_aranyaprathet", "site_type": "border_crossing",
     "name": "Poipet–Aranyaprathet (Ban Khlong Luek)", "country_iso3": "THA", "admin1_iso": "TH-27",
     "counterpart_country_iso3": "KHM", "counterpart_admin1_iso": "KH-1",
     "note": "one crossing: the Cambodian and Thai checkpoints of a handover are the same site"},
    {"site_id": "xing_mae_sot_myawaddy", "site_type": "border_crossing",
     "name": "Friendship Bridge 2 Mae Sot–Myawaddy", "country_iso3": "THA", "admin1_iso": "TH-63",
     "counterpart_country_iso3": "MMR", "counterpart_admin1_iso": "MM-13", "note": ""},
    {"site_id": "xing_ban_chong_kaeb", "site_type": "border_crossing", "name": "Ban Chong Kaeb (Phop Phra)",
     "country_iso3": "THA", "admin1_iso": "TH-63", "counterpart_country_iso3": "MMR",
     "counterpart_admin1_iso": "MM-13", "note": ""},
    {"site_id": "xing_mae_sai_tachileik", "site_type": "border_crossing", "name": "Mae Sai–Tachileik",
     "country_iso3": "THA", "admin1_iso": "TH-57", "counterpart_country_iso3": "MMR",
     "counterpart_admin1_iso": "MM-17", "note": ""},
    {"site_id": "xing_cham_yeam_hat_lek", "site_type": "border_crossing", "name": "Cham Yeam–Hat Lek",
     "country_iso3": "THA", "admin1_iso": "TH-23", "counterpart_country_iso3": "KHM",
     "counterpart_admin1_iso": "KH-9", "note": ""},
    {"site_id": "xing_o_smach_chong_chom", "site_type": "border_crossing", "name": "O'Smach–Chong Chom",
     "country_iso3": "THA", "admin1_iso": "TH-32", "counterpart_country_iso3": "KHM",
     "counterpart_admin1_iso": "KH-22", "note": ""},
    {"site_id": "xing_psar_prum_ban_pakkard", "site_type": "border_crossing", "name": "Psar Prum–Ban Pakkard",
     "country_iso3": "THA", "admin1_iso": "TH-22", "counterpart_country_iso3": "KHM",
     "counterpart_admin1_iso": "KH-24", "note": ""},
    {"site_id": "xing_doung_ban_laem", "site_type": "border_crossing", "name": "Doung–Ban Laem",
     "country_iso3": "THA", "admin1_iso": "TH-22", "counterpart_country_iso3": "KHM",
     "counterpart_admin1_iso": "KH-2", "note": ""},
    {"site_id": "xing_nong_khai_vientiane", "site_type": "border_crossing",
     "name": "Friendship Bridge Nong Khai–Vientiane", "country_iso3": "THA", "admin1_iso": "TH-43",
     "counterpart_country_iso3": "LAO", "counterpart_admin1_iso": "", "note": ""},
    {"site_id": "xing_sadao_bukit_kayu_hitam", "site_type": "border_crossing",
     "name": "Sadao–Bukit Kayu Hitam",
     "country_iso3": "THA", "admin1_iso": "TH-90", "counterpart_country_iso3": "MYS",
     "counterpart_admin1_iso": "", "note": ""},
    {"site_id": "xing_ranong_kawthaung", "site_type": "border_crossing", "name": "Ranong–Kawthaung",
     "country_iso3": "THA", "admin1_iso": "TH-85", "counterpart_country_iso3": "MMR",
     "counterpart_admin1_iso": "MM-05", "note": ""},
    {"site_id": "xing_bavet_moc_bai", "site_type": "border_crossing", "name": "Bavet–Moc Bai",
     "country_iso3": "KHM", "admin1_iso": "KH-20", "counterpart_country_iso3": "VNM",
     "counterpart_admin1_iso": "", "note": "Cambodia–Viet Nam"},
    {"site_id": "xing_trapeang_kriel_nong_nok_khiene", "site_type": "border_crossing",
     "name": "Trapeang Kriel–Nong Nok Khiene", "country_iso3": "KHM", "admin1_iso": "KH-19",
     "counterpart_country_iso3": "LAO", "counterpart_admin1_iso": "", "note": "Cambodia–Laos"},
    {"site_id": "apt_phnom_penh", "site_type": "airport", "name": "Phnom Penh International Airport",
     "country_iso3": "KHM", "admin1_iso": "KH-12", "iata_code": "PNH"},
    {"site_id": "apt_techo", "site_type": "airport", "name": "Techo International Airport",
     "country_iso3": "KHM", "admin1_iso": "KH-8", "iata_code": "KTI"},
    {"site_id": "apt_mae_sot", "site_type": "airport", "name": "Mae Sot Airport", "country_iso3": "THA",
     "admin1_iso": "TH-63", "iata_code": "MAQ"},
    {"site_id": "apt_don_mueang", "site_type": "airport", "name": "Don Mueang International Airport",
     "country_iso3": "THA", "admin1_iso": "TH-10", "iata_code": "DMK"},
    {"site_id": "apt_suvarnabhumi", "site_type": "airport", "name": "Suvarnabhumi Airport",
     "country_iso3": "THA", "admin1_iso": "TH-11", "iata_code": "BKK"},
]  # fmt: skip

SITE_ALIASES: dict[str, list[str]] = {
    "cmp_kk_park": ["KK Park", "KKPark", "K.K. Park", "เคเคปาร์ค", "เคเค ปาร์ค", "ကေကေပါ့ခ်"],
    "cmp_shwe_kokko": ["Shwe Kokko", "Shwe Ko Ko", "Yatai New City", "ชเวโก๊กโก่", "ရွှေကုက္ကို"],
    "cmp_poipet": ["Poipet", "Poi Pet", "Paoy Paet", "Poipet compounds", "Poipet casino compound", "ប៉ោយប៉ែត",
                   "ปอยเปต"],
    "xing_poipet_aranyaprathet": [
        "Poipet", "Poi Pet", "Paoy Paet", "Poipet International Checkpoint", "ប៉ោយប៉ែត",
        "ច្រកទ្វារអន្តរជាតិប៉ោយប៉ែត", "Aranyaprathet", "อรัญประเทศ", "ด่านอรัญประเทศ",
        "ด่านตรวจคนเข้าเมืองอรัญประเทศ", "Ban Khlong Luek", "Khlong Luek", "Klong Luek", "บ้านคลองลึก",
        "ด่านพรมแดนบ้านคลองลึก", "Poipet–Aranyaprathet", "Poipet-Aranyaprathet", "ปอยเปต",
    ],
    "xing_mae_sot_myawaddy": [
        "Friendship Bridge 2", "Thai-Myanmar Friendship Bridge 2", "2nd Friendship Bridge", "Mae Sot",
        "Maesot", "แม่สอด", "ด่านแม่สอด", "ด่านตรวจคนเข้าเมืองแม่สอด", "สะพานมิตรภาพไทย-เมียนมา แห่งที่ 2",
        "Myawaddy", "မြဝတီ", "Friendship Bridge 2, Mae Sot",
    ],
    "xing_cham_yeam_hat_lek": ["Cham Yeam", "ចាំយាម", "Hat Lek", "หาดเล็ก", "ด่านหาดเล็ก"],
    "xing_o_smach_chong_chom": ["O'Smach", "O Smach", "អូរស្មាច់", "Chong Chom", "ช่องจอม", "ด่านช่องจอม"],
    "xing_psar_prum_ban_pakkard": ["Psar Prum", "Prum", "ព្រំ", "Ban Pakkard", "บ้านผักกาด", "ด่านบ้านผักกาด"],
    "xing_doung_ban_laem": ["Doung", "Daung", "ដូង", "Ban Laem", "บ้านแหลม", "ด่านบ้านแหลม"],
    "xing_nong_khai_vientiane": ["Nong Khai", "หนองคาย", "ด่านหนองคาย", "Thai-Lao Friendship Bridge"],
    "xing_sadao_bukit_kayu_hitam": ["Sadao", "สะเดา", "ด่านสะเดา", "Bukit Kayu Hitam"],
    "xing_ranong_kawthaung": ["Ranong", "ระนอง", "ด่านระนอง", "Kawthaung", "ကော့သောင်း"],
    "xing_bavet_moc_bai": ["Bavet", "បាវិត", "Moc Bai"],
    "xing_trapeang_kriel_nong_nok_khiene": ["Trapeang Kriel", "ត្រពាំងគ្រៀល", "Nong Nok Khiene"],
    "apt_phnom_penh": ["Phnom Penh International Airport", "Phnom Penh Airport", "PNH",
                       "អាកាសយានដ្ឋានអន្តរជាតិភ្នំពេញ"],
    "apt_techo": ["Techo International Airport", "Techo Airport", "KTI", "អាកាសយានដ្ឋានអន្តរជាតិតេជោ"],
    "xing_ban_chong_kaeb": ["Ban Chong Kaeb", "Ban Chong Kaeb checkpoint", "Chong Kaeb", "บ้านช่องแคบ",
                            "ด่านบ้านช่องแคบ", "Phop Phra", "พบพระ"],
    "xing_mae_sai_tachileik": ["Mae Sai", "แม่สาย", "ด่านแม่สาย", "Tachileik", "ท่าขี้เหล็ก", "တာချီလိတ်",
                               "Mae Sai–Tachileik", "Mae Sai-Tachileik"],
    "apt_mae_sot": ["Mae Sot Airport", "Mae Sot airport", "Mae Sot", "MAQ", "ท่าอากาศยานแม่สอด", "สนามบินแม่สอด"],
    "apt_don_mueang": ["Don Mueang", "Don Muang", "Don Mueang Airport", "DMK", "ดอนเมือง",
                       "ท่าอากาศยานดอนเมือง"],
    "apt_suvarnabhumi": ["Suvarnabhumi", "Suvarnabhumi Airport", "BKK", "สุวรรณภูมิ", "ท่าอากาศยานสุวรรณภูมิ"],
}  # fmt: skip

AGENCY_COLUMNS = ("agency_id", "abbreviation", "name", "name_local", "country_iso3", "agency_type", "feed")
AGENCIES: list[tuple[str, ...]] = [
    ("RTP", "RTP", "Royal Thai Police", "สำนักงานตำรวจแห่งชาติ", "THA", "police", "rtp_raids"),
    ("TH-CCIB", "CCIB", "Cyber Crime Investigation Bureau", "กองบัญชาการตำรวจสอบสวนกลางไซเบอร์", "THA",
     "police", ""),
    ("TH-DSI", "DSI", "Department of Special Investigation", "กรมสอบสวนคดีพิเศษ", "THA", "police", ""),
    ("TH-IMM", "IMM", "Immigration Bureau", "สำนักงานตรวจคนเข้าเมือง", "THA", "immigration",
     "th_imm_receptions"),
    ("TH-MFA", "MFA", "Ministry of Foreign Affairs of Thailand", "กระทรวงการต่างประเทศ", "THA", "ministry",
     "mfa_assistance"),
    ("NBTC", "NBTC", "National Broadcasting and Telecommunications Commission", "กสทช.", "THA", "regulator",
     "nbtc_telecom"),
    ("TH-RTA", "RTA", "Royal Thai Army", "กองทัพบก", "THA", "military", ""),
    ("CNP", "CNP", "Cambodian National Police", "នគរបាលជាតិកម្ពុជា", "KHM", "police", ""),
    ("KH-GDI", "GDI", "General Department of Immigration", "អគ្គនាយកដ្ឋានអន្តោប្រវេសន៍", "KHM", "immigration",
     "kh_gdi_deportations"),
    ("KH-NCCT", "NCCT", "National Committee for Counter Trafficking", "គណៈកម្មាធិការជាតិប្រយុទ្ធប្រឆាំងការជួញដូរមនុស្ស",
     "KHM", "committee", "kh_ncct_raids"),
    ("MM-BGF", "BGF", "Karen Border Guard Force", "", "MMR", "armed_group", ""),
    ("MM-DKBA", "DKBA", "Democratic Karen Buddhist Army", "", "MMR", "armed_group", ""),
    ("MM-POL", "MPF", "Myanmar Police Force", "မြန်မာနိုင်ငံရဲတပ်ဖွဲ့", "MMR", "police", ""),
]  # fmt: skip


def _script(text: str) -> str:
    """ISO 15924 code of the first non-Latin script in a label, so reviewers can filter by script."""
    for ch in text:
        code = ord(ch)
        if 0x0E00 <= code <= 0x0E7F:
            return "Thai"
        if 0x1780 <= code <= 0x17FF:
            return "Khmr"
        if 0x1000 <= code <= 0x109F:
            return "Mymr"
    return "Latn"


def _key(text: str) -> str:
    """The matching key the dbt macro ``label_key`` computes: lower case, single spaces."""
    return " ".join(text.lower().split())


def country_rows() -> list[dict[str, str]]:
    """Every ISO 3166-1 country, plus the unverified and all-nationalities pseudo codes."""
    rows = [
        {
            "iso2": c.alpha_2,
            "iso3": c.alpha_3,
            "numeric": c.numeric,
            "name": getattr(c, "common_name", None) or c.name,
            "iso_name": c.name,
            "fips_10_4": FIPS_10_4.get(c.alpha_3, ""),
            "code_kind": "iso",
        }
        for c in sorted(pycountry.countries, key=lambda c: c.alpha_3)
    ]
    rows.append({"iso2": "XU", "iso3": UNVERIFIED_ISO3, "numeric": "", "name": "Nationality not verified",
                 "iso_name": "", "fips_10_4": "", "code_kind": "user_assigned"})  # fmt: skip
    rows.append({"iso2": "", "iso3": ALL_NATIONALITIES, "numeric": "", "name": "All nationalities",
                 "iso_name": "", "fips_10_4": "", "code_kind": "aggregate"})  # fmt: skip
    return rows


def nationality_label_rows() -> list[dict[str, str]]:
    """Label → ISO alpha-3, unique by matching key; curated labels win over generated country names."""
    seen: dict[str, dict[str, str]] = {}

    def add(label: str, iso3: str, origin: str) -> None:
        key = _key(label)
        if key and key not in seen:
            seen[key] = {"label": label, "nationality_iso3": iso3, "script": _script(label), "origin": origin}

    for iso3, labels in NATIONALITY_LABELS.items():
        for label in labels:
            add(label, iso3, "curated")
    for c in pycountry.countries:
        for label in (c.alpha_3, c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if label:
                add(label, c.alpha_3, "pycountry")
    return sorted(seen.values(), key=lambda r: (r["nationality_iso3"], r["label"]))


def admin_area_rows() -> list[dict[str, str]]:
    """Admin-1 areas of Thailand, Cambodia and Myanmar with their ISO 3166-2 codes (KH unpadded)."""
    rows = []
    for alpha2 in ("TH", "KH", "MM"):
        country = pycountry.countries.get(alpha_2=alpha2)
        for sub in sorted(pycountry.subdivisions.get(country_code=alpha2), key=lambda s: s.code):
            name_en, name_local = ADMIN_NAMES.get(sub.code, (sub.name, ""))
            rows.append(
                {
                    "admin1_iso": sub.code,
                    "country_iso3": country.alpha_3,
                    "iso_name": sub.name,
                    "name_en": name_en,
                    "name_local": name_local,
                    "subdivision_type": sub.type,
                }
            )
    return rows


def place_alias_rows() -> list[dict[str, str]]:
    """Every spelling of a place → admin-1 code or site id, unique per (matching key, target type)."""
    site_types = {s["site_id"]: s["site_type"] for s in SITES}
    seen: dict[tuple[str, str], dict[str, str]] = {}

    def add(alias: str, target_type: str, target_id: str) -> None:
        key = (_key(alias), target_type)
        if key[0] and key not in seen:
            seen[key] = {"alias": alias, "target_type": target_type, "target_id": target_id,
                         "script": _script(alias)}  # fmt: skip

    for area in admin_area_rows():
        code = area["admin1_iso"]
        for alias in (code, area["iso_name"], area["name_en"], area["name_local"],
                      *ADMIN_EXTRA_ALIASES.get(code, [])):  # fmt: skip
            add(alias, "admin1", code)
    for site_id, aliases in SITE_ALIASES.items():
        for alias in (site_id, *aliases):
            add(alias, site_types[site_id], site_id)
    return sorted(seen.values(), key=lambda r: (r["target_type"], r["target_id"], r["alias"]))


def site_rows() -> list[dict[str, str]]:
    return [{col: site.get(col, "") for col in SITE_COLUMNS} for site in SITES]


def agency_rows() -> list[dict[str, str]]:
    return [dict(zip(AGENCY_COLUMNS, row, strict=True)) for row in AGENCIES]


def _write_csv(path: Path, rows: Sequence[dict[str, str]], columns: Iterable[str] | None = None) -> None:
    cols = list(columns or rows[0].keys())
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


SEED_BUILDERS = {
    "countries": country_rows,
    "nationality_labels": nationality_label_rows,
    "admin_areas": admin_area_rows,
    "place_aliases": place_alias_rows,
    "sites": site_rows,
    "agencies": agency_rows,
}


def write_seeds(seeds_dir: Path) -> list[Path]:
    """(Re)write every reference seed CSV; deterministic, so a diff shows real reference changes."""
    seeds_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in SEED_BUILDERS.items():
        path = seeds_dir / f"{name}.csv"
        _write_csv(path, build())
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: ``python -m borderwatch.reference [--seeds-dir DIR]``."""
    parser = argparse.ArgumentParser(description="Regenerate the warehouse reference seeds.")
    parser.add_argument("--seeds-dir", type=Path, default=REPO_ROOT / "seeds")
    args = parser.parse_args(argv)
    for path in write_seeds(args.seeds_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
