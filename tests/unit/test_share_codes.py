from imageshare.images.share_codes import ALPHABET, LENGTH, is_share_code, new_share_code


def test_share_codes_are_eight_base62_characters_and_do_not_repeat():
    codes = {new_share_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(len(code) == LENGTH == 8 and set(code) <= set(ALPHABET) for code in codes)
    # Every character class turns up: the codes use the whole alphabet.
    joined = "".join(codes)
    assert any(c.isdigit() for c in joined)
    assert any(c.islower() for c in joined) and any(c.isupper() for c in joined)


def test_is_share_code_rejects_anything_else():
    assert is_share_code("aZ09bY18")
    for text in ("", "short", "toolong123", "with-dash", "../etc/p", "ümlaut12"):
        assert not is_share_code(text)


def test_is_share_code_wants_exactly_eight_base62_characters():
    assert is_share_code("00000000") and is_share_code("zzzzzzzz") and is_share_code("ZZZZZZZZ")
    for text in ("aZ09bY1", "aZ09bY18x", "aZ09bY1 ", " aZ09bY1", "aZ09bY1\n", "aZ09_Y18"):
        assert not is_share_code(text), text
    # Digits and letters of other scripts are no base62 characters.
    for text in ("１２３４５６７８", "aZ09bY1²", "aZ09bYıi", "aZ09bY1٣"):
        assert not is_share_code(text), text
