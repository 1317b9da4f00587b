"""The QOF prevalence file reader shared by the generator and the calibration report."""

from __future__ import annotations

import pytest

from pcnkit.demo import demo_data
from pcnkit.errors import InputError
from pcnkit.population.qof import read_prevalence

HEADER = "PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PATIENT_LIST_SIZE\n"


def test_reads_registers_for_the_practices_asked_for():
    rows = list(read_prevalence(demo_data() / "PREVALENCE_1920.csv", ["f82002"], list_sizes=True))
    assert rows and {r.practice for r in rows} == {"F82002"}
    hyp = next(r for r in rows if r.group == "HYP")
    assert hyp.list_type == "TOTAL" and hyp.register > 0 and hyp.list_size > hyp.register


def test_bad_files_name_the_file_row_and_column(tmp_path):
    no_size = tmp_path / "a.csv"
    no_size.write_text("PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE\nX,HYP,1,TOTAL\n")
    with pytest.raises(InputError, match=r"a.csv: lacks the columns \['PATIENT_LIST_SIZE'\]"):
        list(read_prevalence(no_size, list_sizes=True))
    assert len(list(read_prevalence(no_size))) == 1  # list sizes not needed: fine
    bad = tmp_path / "b.csv"
    bad.write_text(HEADER + "X,HYP,10,TOTAL,100\nX,AF,many,TOTAL,100\n")
    with pytest.raises(InputError, match=r"b.csv, row 3, column 'REGISTER': has a REGISTER"):
        list(read_prevalence(bad))
    bad.write_text(HEADER + "X,HYP,10,TOTAL,lots\n")
    with pytest.raises(InputError, match=r"row 2, column 'PATIENT_LIST_SIZE'"):
        list(read_prevalence(bad, list_sizes=True))
