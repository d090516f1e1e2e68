"""Thai/English texts of checks 32–35 and of the snapshot and follow modes (docs/record.md
§3.3–§3.5); merged into :mod:`verifier.i18n`'s tables."""
from __future__ import annotations

CHECK_TITLES: dict[str, tuple[str, str]] = {
    "board.seen": ("the board extends every checkpoint the observer saw; no two signed "
                   "checkpoints for one seq",
                   "กระดานต่อยอดจากทุกจุดตรวจที่ผู้สังเกตการณ์เคยเห็น และไม่มีจุดตรวจที่ลงนามสองจุดในลำดับเดียวกัน"),
    "witnesses.statements": ("every witness co-signature is by a pinned witness, of the final head",
                             "ลายเซ็นร่วมของพยานทุกรายเป็นของพยานที่ตรึงไว้ และรับรองหัวสายโซ่สุดท้าย"),
    "pins.witnesses": ("the opening's witness list: sorted, names unique, keys distinct",
                       "รายชื่อพยานในวัตถุเปิดหีบเรียงลำดับ ชื่อไม่ซ้ำ และกุญแจไม่ซ้ำกัน"),
    "board.turnout": ("per contest, ballots and distinct voters on the board (no results)",
                      "จำนวนบัตรและผู้ลงคะแนนที่ไม่ซ้ำกันบนกระดานของแต่ละการเลือก (ไม่มีผลคะแนน)"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    "seen.not_given": ("no saved checkpoints given (--seen FILE): nothing to compare",
                       "ไม่ได้ให้จุดตรวจที่บันทึกไว้ (--seen FILE) จึงไม่มีสิ่งที่ต้องเทียบ"),
    "seen.ignored": ("saved checkpoint {number} ignored: {reason}",
                     "ไม่นับจุดตรวจที่บันทึกไว้ลำดับที่ {number}: {reason}"),
    "seen.equivocation": ("EQUIVOCATION: two signed checkpoints for seq {seq}: head {head} "
                          "(at {at}) and head {other_head} (at {other_at})",
                          "การแสดงกระดานสองแบบ: จุดตรวจที่ลงนามสองจุดสำหรับลำดับ {seq}: "
                          "หัว {head} (เวลา {at}) และหัว {other_head} (เวลา {other_at})"),
    "seen.not_on_chain": ("the checkpoint seen at seq {seq} with head {head} (at {at}) is not "
                          "on the published chain (its head there: {found})",
                          "จุดตรวจที่เคยเห็นที่ลำดับ {seq} หัว {head} (เวลา {at}) ไม่อยู่บน"
                          "สายโซ่ที่เผยแพร่ (หัวที่ตำแหน่งนั้น: {found})"),
    "seen.count": ("{count} saved checkpoints compared", "เทียบจุดตรวจที่บันทึกไว้ {count} จุด"),
    "witnesses.none": ("no witness co-signature in the record", "ไม่มีลายเซ็นร่วมของพยานในบันทึก"),
    "witnesses.invalid": ("witness statement refused: {reason}", "ไม่ยอมรับคำรับรองของพยาน: {reason}"),
    "witnesses.name": ("the file names another witness ({found})",
                       "ชื่อไฟล์ไม่ตรงกับพยาน ({found})"),
    "witnesses.not_final": ("co-signs seq {seq}, head {head}: not the final head (seq "
                            "{final_seq})",
                            "รับรองลำดับ {seq} หัว {head} ซึ่งไม่ใช่หัวสุดท้าย (ลำดับ {final_seq})"),
    "witnesses.count": ("{count} witness co-signatures ({pinned} witnesses pinned)",
                        "ลายเซ็นร่วมของพยาน {count} ราย (พยานที่ตรึงไว้ {pinned} ราย)"),
    "pinwit.shape": ("witness list is malformed: {error}", "รายชื่อพยานผิดรูปแบบ: {error}"),
    "pinwit.key_reused": ("a witness key is another witness's or the board, CA or an official's key",
                          "กุญแจของพยานซ้ำกับของพยานอื่น กระดาน ผู้ออกข้อมูลประจำตัว หรือเจ้าหน้าที่"),
    "pinwit.order": ("witnesses not sorted by name, or a name twice",
                     "รายชื่อพยานไม่เรียงตามชื่อ หรือมีชื่อซ้ำ"),
    "pinwit.count": ("{count} witnesses pinned", "พยานที่ตรึงไว้ {count} ราย"),
    "board_turnout.contest": ("{contest}: {ballots} ballots on the board, {voters} distinct voters",
                        "{contest}: บัตรบนกระดาน {ballots} ใบ ผู้ลงคะแนนไม่ซ้ำกัน {voters} คน"),
    "board_turnout.audits": ("{contest}: {audits} audited ballots on the board (never counted, not turnout)",
                       "{contest}: บัตรที่ถูกตรวจสอบบนกระดาน {audits} ใบ (ไม่นับคะแนนและไม่นับเป็นผู้มาใช้สิทธิ)"),
    "board_turnout.too_many": ("{voters} distinct voters but only {credentials} credentials "
                               "of the contest",
                               "ผู้ลงคะแนนไม่ซ้ำกัน {voters} คน แต่การเลือกนี้มีข้อมูลประจำตัวเพียง "
                               "{credentials} รายการ"),
}

ITEM_LABELS: dict[str, tuple[str, str]] = {
    "witness": ("witness", "พยาน"),
}

UI: dict[str, tuple[str, str]] = {
    "snapshot_title": ("SSB Vote — verification of a board snapshot (polls open)",
                       "SSB Vote — การตรวจสอบสำเนากระดาน (ระหว่างเปิดหีบ)"),
    "follow_round": ("round {round}: verified up to seq {seq} (head {head}), {new} new ballots",
                     "รอบ {round}: ตรวจแล้วถึงลำดับ {seq} (หัว {head}) บัตรใหม่ {new} ใบ"),
    "follow_failed": ("round {round}: FAILED — {error}", "รอบ {round}: ไม่ผ่าน — {error}"),
    "follow_error": ("cannot follow: {error}", "ติดตามไม่ได้: {error}"),
}
