"""One module for the user's folders and the STUTTERSCOPE_* variables."""

from __future__ import annotations

import pytest

from model import folders


def test_variables_move_each_folder(tmp_path, monkeypatch):
    for variable, where in ((folders.DATA_DIR_ENV, folders.data_dir), (folders.LOG_DIR_ENV, folders.log_dir),
                            (folders.CACHE_DIR_ENV, folders.cache_dir)):
        monkeypatch.setenv(variable, str(tmp_path / variable))
        assert where() == tmp_path / variable
    monkeypatch.setenv(folders.MODEL_ENV, str(tmp_path / "m.safetensors"))
    assert folders.model_override() == tmp_path / "m.safetensors"


def test_default_folders_spell_the_name_one_way(tmp_path, monkeypatch):
    for variable in (folders.DATA_DIR_ENV, folders.LOG_DIR_ENV, folders.CACHE_DIR_ENV, "STUTTERSCOPE_CACHE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert folders.data_dir() == tmp_path / "data" / "StutterScope"
    assert folders.cache_dir() == tmp_path / "cache" / "StutterScope"
    (tmp_path / "cache" / "stutterscope").mkdir(parents=True)  # made before the spelling was one
    assert folders.cache_dir() == tmp_path / "cache" / "stutterscope"


def test_the_old_cache_variable_still_works_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.delenv(folders.CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("STUTTERSCOPE_CACHE", str(tmp_path))
    with pytest.warns(DeprecationWarning, match=folders.CACHE_DIR_ENV):
        assert folders.cache_dir() == tmp_path
