"""Finding characters: names, aliases, gender — on passages written for these tests."""

from __future__ import annotations

from narrate.dialogue.characters import find_characters
from narrate.model import FEMALE, MALE


def index_of(text: str):
    return find_characters([(0, text)], text)


def test_capitalised_sentence_starters_are_not_names():
    text = (
        "Then Hal walked in. Well, it was late. Then Hal sat down, and the cat slept. "
        "Well then, thought Hal; then the kettle boiled. Hal smiled."
    )
    names = set(index_of(text).characters)
    assert "Hal" in names
    assert not names & {"Then", "Well", "Then Hal"}


def test_honorifics_give_gender_and_keep_spouses_apart():
    text = (
        "Mr. Fairweather read the paper. Mrs. Fairweather poured the tea. "
        "Mr. Fairweather sighed, and Mrs. Fairweather laughed at him."
    )
    index = index_of(text)
    assert index.resolve("Mr. Fairweather") != index.resolve("Mrs. Fairweather")
    assert index.gender(index.resolve("Mr. Fairweather")) == MALE
    assert index.gender(index.resolve("Mrs. Fairweather")) == FEMALE


def test_short_form_joins_the_longer_name():
    text = (
        "Mr. Quillon arrived at noon. Quillon was tired. Later Mr. Quillon ate, and Quillon slept."
    )
    index = index_of(text)
    assert index.resolve("Quillon") == index.resolve("Mr. Quillon")


def test_pronouns_after_a_subject_give_gender():
    text = (
        "Rowan closed his book. Rowan rubbed his eyes and yawned. Later Rowan found his "
        "coat. Isolde fetched her shawl. Isolde said nothing; she smiled instead. Isolde "
        "tied herself a scarf."
    )
    index = index_of(text)
    assert index.gender("Rowan") == MALE
    assert index.gender("Isolde") == FEMALE


def test_her_as_an_object_does_not_make_the_subject_female():
    text = (
        "Corin squeezed her hand. Corin kissed her cheek. Corin held her coat while he "
        "waited. Corin rubbed his chin."
    )
    assert index_of(text).gender("Corin") == MALE


def test_places_after_travel_prepositions_are_not_characters():
    text = (
        "They drove to Pendlebury. In Pendlebury the rain fell. From Pendlebury they went "
        "north, and Edwin slept. Edwin woke in Pendlebury again."
    )
    names = set(index_of(text).characters)
    assert "Edwin" in names
    assert "Pendlebury" not in names


def test_a_name_seen_once_is_not_a_character():
    text = "Mabel went out. Mabel came back. The postman, Arthur, waved."
    names = set(index_of(text).characters)
    assert "Mabel" in names
    assert "Arthur" not in names


def test_mentions_find_names_in_text():
    text = "Greta ran. Greta jumped. Then Greta laughed at Olaf, and Olaf laughed too."
    index = index_of(text)
    found = [m.name for m in index.mentions("Later Greta saw Olaf.")]
    assert found == ["Greta", "Olaf"]


def test_short_forms_join_the_full_given_name():
    text = (
        "Elizabeth walked to the window. Elizabeth sighed. Later Lizzy laughed, and Lizzy went out."
    )
    index = index_of(text)
    assert index.resolve("Lizzy") == index.resolve("Elizabeth")


def test_a_full_name_names_the_character_when_the_surname_is_theirs_alone():
    text = (
        "Harvey Stone sat alone. Harvey ordered a drink. Harvey looked up, and Harvey "
        "smiled. Bill walked in. Bill sat down."
    )
    index = index_of(text)
    assert index.resolve("Harvey") == "Harvey Stone"


def test_mister_joins_the_one_man_with_that_surname():
    text = (
        "Mike Campbell came in. Mike was drunk. Mike sat down and he laughed. Mr. Campbell "
        "was always drunk, said the waiter. Mr. Campbell paid."
    )
    index = index_of(text)
    assert index.resolve("Mr. Campbell") == index.resolve("Mike") == "Mike Campbell"


def test_a_bare_surname_is_not_mrs():
    text = "Mrs. Braddocks poured. Mrs. Braddocks smiled. Braddocks laughed. Braddocks coughed."
    index = index_of(text)
    assert index.resolve("Braddocks") != index.resolve("Mrs. Braddocks")


def test_a_given_name_gives_a_gender_when_the_text_gives_none():
    text = "Millie brought the tea. Millie went out. Later Millie came back."
    assert index_of(text).gender("Millie") == FEMALE


def test_mister_is_not_joined_to_a_woman_who_shares_his_surname():
    text = (
        "Minnie Beebe ran in. Minnie laughed. Mr. Beebe smiled at the girl. "
        "Minnie Beebe sat down. Mr. Beebe lit his pipe and read."
    )
    index = index_of(text)
    assert index.resolve("Mr. Beebe") != index.resolve("Minnie Beebe")
    assert index.gender(index.resolve("Mr. Beebe")) == MALE


def test_miss_joins_the_one_woman_with_that_surname():
    text = (
        "Charlotte Bartlett packed. Charlotte sighed. Miss Bartlett wrote a letter. "
        "Later Miss Bartlett slept, and Charlotte Bartlett dreamed."
    )
    index = index_of(text)
    assert index.resolve("Miss Bartlett") == index.resolve("Charlotte Bartlett")


def test_two_names_often_in_one_sentence_are_two_people():
    # Father and son: "Mr. Emerson" and "George" are written side by side, so the one
    # Mr. Emerson is not George Emerson, though George is the only Emerson with a full name.
    text = (
        "George Emerson walked ahead. Mr. Emerson and George sat down. "
        "George looked at Mr. Emerson, who smiled. Mr. Emerson followed George outside. "
        "George Emerson laughed."
    )
    index = index_of(text)
    assert index.resolve("Mr. Emerson") != index.resolve("George")
    # Named apart, the one man called Mr. is the one with the full name.
    alone = "Mike Campbell came. Mike smiled. Mr. Campbell sat. Later Mr. Campbell slept."
    assert index_of(alone).resolve("Mr. Campbell") == index_of(alone).resolve("Mike Campbell")


def test_a_place_that_never_acts_is_not_a_person():
    text = (
        "They drove to Hartfield. Hartfield was warm. The lawns of Hartfield were green. "
        "Emma smiled. Emma walked about Hartfield, and Emma laughed."
    )
    index = index_of(text)
    assert index.resolve("Emma") in index.people
    assert "Hartfield" not in index.people
    assert not index.could_be_person("Hartfield") and index.could_be_person("Stranger")
