"""Thai/English texts of checks 37–40 (docs/record.md §5, version 4; docs/manifest.md §4: the
election's rules as data); merged into :mod:`verifier.i18n`'s tables."""
from __future__ import annotations

CHECK_TITLES: dict[str, tuple[str, str]] = {
    "manifest.rules": ("the manifest is valid (format 1 or 2) and its routing rule holds: every "
                       "combination of an electorate's declared attribute values is in exactly "
                       "one of its contests",
                       "manifest ถูกต้อง (รูปแบบ 1 หรือ 2) และกฎการจัดผู้มีสิทธิ์เข้าการเลือกเป็นจริง: "
                       "ค่าคุณสมบัติที่ประกาศไว้ทุกชุดของกลุ่มผู้มีสิทธิ์อยู่ในการเลือกของกลุ่มนั้นพอดีหนึ่งการเลือก"),
    "credentials.contests": ("the credential lists, revocations and board entries name contests "
                             "of the manifest; every pseudonym votes in one contest only",
                             "รายการข้อมูลประจำตัว การเพิกถอน และรายการบนกระดานระบุการเลือกที่มีใน manifest "
                             "และนามแฝงแต่ละรายลงคะแนนในการเลือกเดียวเท่านั้น"),
    "results.seats": ("every contest's results have the manifest's seats and elect exactly that "
                      "many distinct candidates of the contest",
                      "ผลของทุกการเลือกมีจำนวนที่นั่งตาม manifest และมีผู้ได้รับเลือกเท่าจำนวนนั้นพอดี "
                      "ไม่ซ้ำกัน และเป็นผู้สมัครของการเลือกนั้น"),
    "tally.contests": ("counted set, encrypted tally, decryption shares and results have exactly "
                       "the manifest's contests, one ciphertext per candidate",
                       "ชุดบัตรที่นับ ผลรวมเข้ารหัส ส่วนถอดรหัส และผลการเลือกตั้ง มีการเลือกตรงกับ "
                       "manifest พอดี และมีข้อความเข้ารหัสหนึ่งรายการต่อผู้สมัครหนึ่งคน"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    # 37
    "rules.invalid": ("the manifest breaks docs/manifest.md: {error}",
                      "manifest ไม่เป็นไปตาม docs/manifest.md: {error}"),
    "rules.no_contest": ("{combination} is in no contest: such a voter could not vote",
                         "{combination} ไม่อยู่ในการเลือกใดเลย ผู้มีสิทธิ์เช่นนี้จะลงคะแนนไม่ได้"),
    "rules.several_contests": ("{combination} is in {count} contests ({contests}): such a voter "
                               "would have several ballots",
                               "{combination} อยู่ใน {count} การเลือก ({contests}) "
                               "ผู้มีสิทธิ์เช่นนี้จะได้บัตรหลายใบ"),
    "rules.electorate": ("{electorate}: contests {contests}; attributes {attributes}",
                         "{electorate}: การเลือก {contests} คุณสมบัติ {attributes}"),
    "rules.format": ("manifest {format}, {contests} contests",
                     "manifest รูปแบบ {format} จำนวน {contests} การเลือก"),
    # 38
    "contests.credential_list": ("the credential list has a list for a contest the manifest "
                                 "does not have",
                                 "รายการข้อมูลประจำตัวมีรายการของการเลือกที่ไม่มีใน manifest"),
    "contests.revocation": ("revocation names contest {contest}, which has no credential list",
                            "การเพิกถอนระบุการเลือก {contest} ซึ่งไม่มีรายการข้อมูลประจำตัว"),
    "contests.entry": ("board entry of a contest the manifest does not have",
                       "รายการบนกระดานเป็นของการเลือกที่ไม่มีใน manifest"),
    "contests.pseudonym": ("pseudonym {pseudonym} also votes in contest {other} (seq {first}): "
                           "a voter has one contest",
                           "นามแฝง {pseudonym} ลงคะแนนในการเลือก {other} ด้วย (ลำดับ {first}) "
                           "ผู้มีสิทธิ์แต่ละรายมีการเลือกเดียว"),
    "contests.lists": ("credential lists for {lists} of {contests} contests",
                       "มีรายการข้อมูลประจำตัวของ {lists} จาก {contests} การเลือก"),
    # 39
    "seats.shape": ("results.json is malformed: {error}", "results.json ผิดรูปแบบ: {error}"),
    "seats.missing": ("no seats (the manifest says {expected})",
                      "ไม่มีจำนวนที่นั่ง (manifest ระบุ {expected})"),
    "seats.value": ("seats is {found}, the manifest says {expected}",
                    "จำนวนที่นั่งเป็น {found} แต่ manifest ระบุ {expected}"),
    "seats.elected_count": ("{found} candidates elected for {expected} seats",
                            "มีผู้ได้รับเลือก {found} คน สำหรับ {expected} ที่นั่ง"),
    "seats.elected_twice": ("candidate elected twice", "ผู้สมัครได้รับเลือกซ้ำสองครั้ง"),
    "seats.elected_unknown": ("elected candidate is not a candidate of this contest",
                              "ผู้ได้รับเลือกไม่ใช่ผู้สมัครของการเลือกนี้"),
    "seats.contest": ("{contest}: {elected} elected for {seats} seats",
                      "{contest}: ได้รับเลือก {elected} คน สำหรับ {seats} ที่นั่ง"),
    # 40
    "tally_contests.not_object": ("contests is not an object", "contests ไม่ใช่อ็อบเจกต์"),
    "tally_contests.keys": ("contests differ from the manifest's: missing {missing}, extra "
                            "{extra}",
                            "การเลือกไม่ตรงกับ manifest: ขาด {missing} เกิน {extra}"),
    "tally_contests.ciphertexts": ("{found} ciphertexts for {expected} candidates",
                                   "ข้อความเข้ารหัส {found} รายการ สำหรับผู้สมัคร {expected} คน"),
    "tally_contests.shares": ("{found} decryption shares for {expected} candidates",
                              "ส่วนถอดรหัส {found} รายการ สำหรับผู้สมัคร {expected} คน"),
    "tally_contests.candidates": ("{found} candidates in the results, the manifest has "
                                  "{expected}",
                                  "ผลการเลือกตั้งมีผู้สมัคร {found} คน แต่ manifest มี {expected} คน"),
    "tally_contests.count": ("{contests} contests in every tally file",
                             "ทุกไฟล์การนับคะแนนมี {contests} การเลือก"),
}

ITEM_LABELS: dict[str, tuple[str, str]] = {}

UI: dict[str, tuple[str, str]] = {}
