"""Places and labels: border crossings, Thai checkpoints, provinces, nationality spellings."""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------
# Places and labels
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    """A Cambodia–Thailand border crossing: Khmer-side spellings and the Thai immigration checkpoint."""

    kh_names: tuple[str, ...]
    kh_provinces: tuple[str, ...]
    th_checkpoint: str
    th_code: str  # prefix of reception numbers
    th_abbr: str  # Thai province abbreviation used in TM.35 numbers


CROSSINGS: tuple[Crossing, ...] = (
    Crossing(
        ("Poipet", "Poi Pet", "Paoy Paet", "ប៉ោយប៉ែត"),
        ("Banteay Meanchey", "បន្ទាយមានជ័យ"),
        "ด่านอรัญประเทศ",
        "ARP",
        "สก",
    ),
    Crossing(("Cham Yeam", "ចាំយាម"), ("Koh Kong", "កោះកុង"), "ด่านหาดเล็ก", "HLK", "ตร"),
    Crossing(("O'Smach", "O Smach", "អូរស្មាច់"), ("Oddar Meanchey", "ឧត្តរមានជ័យ"), "ด่านช่องจอม", "CJM", "สร"),
    Crossing(("Psar Prum", "Prum", "ព្រំ"), ("Pailin", "ប៉ៃលិន"), "ด่านบ้านผักกาด", "BPK", "จบ"),
    Crossing(("Doung", "Daung", "ដូង"), ("Battambang", "បាត់ដំបង"), "ด่านบ้านแหลม", "BLM", "จบ"),
)
POIPET = 0

# Thai checkpoints that receive Thai nationals from Myanmar, Laos and Malaysia (never from Cambodia).
TH_OTHER_CHECKPOINTS: tuple[tuple[str, str, str, str], ...] = (
    ("ด่านแม่สอด", "MST", "ตก", "เมียนมา"),
    ("ด่านแม่สอด", "MST", "ตก", "เมียนมา"),
    ("ด่านแม่สาย", "MSI", "ชร", "เมียนมา"),
    ("ด่านหนองคาย", "NKI", "นค", "ลาว"),
    ("ด่านสะเดา", "SDO", "สข", "มาเลเซีย"),
    ("ด่านระนอง", "RNG", "รน", "เมียนมา"),
    ("ด่านแม่สอด", "MST", "ตก", "เมียนมา"),
    ("ด่านแม่สาย", "MSI", "ชร", "เมียนมา"),
)
TH_REMARKS = ("", "", "", "", "", "", "ส่งดำเนินคดี", "คัดกรองผู้เสียหายจากการค้ามนุษย์")

# Foreign nationals Cambodia deports by air or to third countries: (English, Khmer, destination, places).
_KH_FOREIGN: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Chinese",
        "ចិន",
        "China",
        (("Phnom Penh International Airport", "Phnom Penh"), ("Techo International Airport", "Kandal")),
    ),
    ("Vietnamese", "វៀតណាម", "Vietnam", (("Bavet", "Svay Rieng"), ("បាវិត", "ស្វាយរៀង"))),
    ("Indonesian", "ឥណ្ឌូនេស៊ី", "Indonesia", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Malaysian", "ម៉ាឡេស៊ី", "Malaysia", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Korean", "កូរ៉េ", "South Korea", (("Techo International Airport", "Kandal"),)),
    ("Filipino", "ហ្វីលីពីន", "Philippines", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Myanmar", "មីយ៉ាន់ម៉ា", "Myanmar", (("Phnom Penh International Airport", "Phnom Penh"),)),
    ("Lao", "ឡាវ", "Laos", (("Trapeang Kriel", "Stung Treng"),)),
)
_KH_FOREIGN_WEIGHTS = (0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 0)  # 16 slots → index into _KH_FOREIGN
KH_REMARKS = (
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "Online scam",
    "Illegal stay",
    "Overstay",
    "បោកប្រាស់តាមអនឡាញ",
    "Court order",
    "Expelled",
    "",
)

# Thai provinces for NBTC and RTP: (English name as in ISO 3166-2 / common use, Thai name).
PROVINCES: tuple[tuple[str, str], ...] = (
    ("Bangkok", "กรุงเทพมหานคร"),
    ("Sa Kaeo", "สระแก้ว"),
    ("Chiang Rai", "เชียงราย"),
    ("Nong Khai", "หนองคาย"),
    ("Narathiwat", "นราธิวาส"),
    ("Tak", "ตาก"),
    ("Chanthaburi", "จันทบุรี"),
    ("Trat", "ตราด"),
    ("Buri Ram", "บุรีรัมย์"),
    ("Surin", "สุรินทร์"),
    ("Si Sa Ket", "ศรีสะเกษ"),
    ("Ranong", "ระนอง"),
    ("Chiang Mai", "เชียงใหม่"),
    ("Chon Buri", "ชลบุรี"),
    ("Nonthaburi", "นนทบุรี"),
    ("Pathum Thani", "ปทุมธานี"),
    ("Samut Prakan", "สมุทรปราการ"),
    ("Khon Kaen", "ขอนแก่น"),
    ("Udon Thani", "อุดรธานี"),
    ("Nakhon Ratchasima", "นครราชสีมา"),
    ("Ubon Ratchathani", "อุบลราชธานี"),
    ("Songkhla", "สงขลา"),
    ("Phuket", "ภูเก็ต"),
    ("Yala", "ยะลา"),
    ("Pattani", "ปัตตานี"),
    ("Mukdahan", "มุกดาหาร"),
    ("Nakhon Phanom", "นครพนม"),
    ("Loei", "เลย"),
    ("Kanchanaburi", "กาญจนบุรี"),
    ("Prachin Buri", "ปราจีนบุรี"),
    ("Mae Hong Son", "แม่ฮ่องสอน"),
    ("Satun", "สตูล"),
    ("Bueng Kan", "บึงกาฬ"),
    ("Phitsanulok", "พิษณุโลก"),
    ("Rayong", "ระยอง"),
)
