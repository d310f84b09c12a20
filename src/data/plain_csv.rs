//! A parallel fast path for the plain numeric rows that make up nearly every large CSV file.
//!
//! Once the loader has read the header and the first data row (and so knows the width, the
//! selected columns and that no weight or kept-record bookkeeping is needed), the rest of
//! a file is read here in segments of [`SEGMENT_BYTES`], each cut at a line break and split into
//! pieces parsed on rayon's threads, then appended in order: the matrix is the same, value for
//! value, as the record-by-record path gives, because every cell goes through the same
//! [`super::csv`] cell parser.
//!
//! A truth column (the true classes, as `simulate` writes in `component`) is read here too:
//! each piece finds its rows' classes, classes new to the file are numbered in the order of
//! their first row when the pieces are put together, and anything the loader's bookkeeping
//! would have to locate (an empty class, too many classes, a class that is not a number in a
//! column that may be data) makes the path give up like a bad cell.
//!
//! The path only handles what it can prove it reads exactly as the csv crate would: lines ended
//! by LF or CRLF, no quote character anywhere, no other CR, every line of the expected width with
//! every selected cell a finite number, blank (whitespace-only) lines skipped, lines shorter than
//! [`super::csv::MAX_LINE_BYTES`], and the data within the memory budget. Anything else (a bad
//! cell, a ragged row, a quote, a lone CR) makes it give up: the caller then reads the rest
//! record by record from where this path started, so every error and every dropped row is
//! reported exactly as before, with its line and column.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

/// Bytes read and parsed at a time: large enough to give every thread long pieces, small enough
/// that the buffer is a small fraction of a large file's matrix.
const SEGMENT_BYTES: usize = 16 << 20;

/// A smaller segment for tests, so that small files cross segment boundaries (0: none).
#[cfg(test)]
pub(crate) static SEGMENT_OVERRIDE: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

#[cfg(test)]
thread_local! {
    /// Files this thread read to the end by the fast path (tests check that it runs; per
    /// thread, so that tests running beside it do not count).
    static FAST_READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The segment size in use.
fn segment_bytes() -> usize {
    #[cfg(test)]
    {
        let size = SEGMENT_OVERRIDE.load(std::sync::atomic::Ordering::Relaxed);
        if size > 0 {
            return size;
        }
    }
    SEGMENT_BYTES
}

/// Pieces per thread within a segment, so that a slow piece does not hold the others up.
const PIECES_PER_THREAD: usize = 4;

/// What the fast path needs to know about the rows it reads.
pub(crate) struct Shape<'a> {
    /// The delimiter byte.
    pub delimiter: u8,
    /// Fields on every row.
    pub width: usize,
    /// The selected fields (0-based), in the matrix's column order.
    pub selection: &'a [usize],
    /// The most bytes the matrix may take (at 16 bytes a value, as the loader counts).
    pub budget: u64,
    /// The truth column (0-based), whose classes go to [`Classes`].
    pub truth: Option<usize>,
}

/// The truth column's classes: those the loader knew before this path, then those it finds.
pub(crate) struct Classes {
    /// Class index by trimmed cell text.
    ids: HashMap<Vec<u8>, usize>,
    /// The trimmed text of every class, by index.
    texts: Vec<Vec<u8>>,
    /// The class of every row, those before this path's first, then those it read.
    pub labels: Vec<usize>,
    /// The most classes there may be (`None`: any number).
    limit: Option<usize>,
    /// Whether every class must be a finite number (a column that may turn out to be data,
    /// whose other cells the loader would have to locate).
    numbers_only: bool,
}

impl Classes {
    /// The classes known so far, by index, and the labels of the rows before this path, with
    /// the limits the loader keeps to.
    pub(crate) fn new(
        texts: Vec<Vec<u8>>,
        labels: Vec<usize>,
        limit: Option<usize>,
        numbers_only: bool,
    ) -> Self {
        let ids = texts
            .iter()
            .enumerate()
            .map(|(id, text)| (text.clone(), id))
            .collect();
        Self {
            ids,
            texts,
            labels,
            limit,
            numbers_only,
        }
    }

    /// The texts of the classes from index `from` on (those this path added).
    pub(crate) fn texts_from(&self, from: usize) -> &[Vec<u8>] {
        self.texts.get(from..).unwrap_or_default()
    }

    /// The index of class `text`, numbering it next if it is new; `None` where the loader
    /// would have to stop treating the column as classes.
    fn index_of(&mut self, text: &[u8]) -> Option<usize> {
        if let Some(&id) = self.ids.get(text) {
            return Some(id);
        }
        if self.limit.is_some_and(|limit| self.texts.len() >= limit)
            || (self.numbers_only && super::csv::parse_cell(text).is_err())
        {
            return None;
        }
        let id = self.texts.len();
        self.ids.insert(text.to_vec(), id);
        self.texts.push(text.to_vec());
        Some(id)
    }
}

/// The classes of one piece's rows: an index of [`Classes`] known when the segment began, or
/// [`NEW_CLASS`] with the position in `new` of a class first seen in this piece.
struct PieceClasses<'p> {
    labels: Vec<usize>,
    new: Vec<&'p [u8]>,
}

/// Marks a piece's label as an index into its own new classes.
const NEW_CLASS: usize = 1 << (usize::BITS - 1);

/// Looks a row's class up for [`parse_piece`]: a few recent texts first (most files have a
/// handful of classes), then the classes known at the segment's start, then the piece's own.
struct ClassLookup<'p, 'c> {
    known: &'c Classes,
    recent: Vec<(&'p [u8], usize)>,
    seen: HashMap<&'p [u8], usize>,
    classes: PieceClasses<'p>,
}

/// Texts [`ClassLookup`] compares one by one before hashing.
const RECENT_CLASSES: usize = 16;

impl<'p, 'c> ClassLookup<'p, 'c> {
    /// A lookup for a piece of at most `rows` rows.
    fn new(known: &'c Classes, rows: usize) -> Self {
        Self {
            known,
            recent: Vec::new(),
            seen: HashMap::new(),
            classes: PieceClasses {
                labels: Vec::with_capacity(rows),
                new: Vec::new(),
            },
        }
    }

    /// Adds the class of the row whose truth cell is `text` (trimmed, not empty).
    fn push(&mut self, text: &'p [u8]) {
        let label = match self.recent.iter().find(|(seen, _)| *seen == text) {
            Some(&(_, label)) => label,
            None => {
                let label = match self.seen.get(text) {
                    Some(&label) => label,
                    None => {
                        let label = self.known.ids.get(text).copied().unwrap_or_else(|| {
                            self.classes.new.push(text);
                            NEW_CLASS | (self.classes.new.len() - 1)
                        });
                        self.seen.insert(text, label);
                        label
                    }
                };
                if self.recent.len() < RECENT_CLASSES {
                    self.recent.push((text, label));
                }
                label
            }
        };
        self.classes.labels.push(label);
    }
}

/// Reads the rows of the file at `path` from byte `offset` to its end into `values`, returning
/// how many rows were appended; `None` (with `values` as it was) when the rest of the file holds
/// anything the fast path does not read exactly like the record-by-record path.
/// With a truth column, `classes` gets every row's class (and, on `None`, holds anything: the
/// caller drops it).
pub(crate) fn read_rest(
    path: &Path,
    offset: u64,
    shape: &Shape<'_>,
    values: &mut Vec<f64>,
    mut classes: Option<&mut Classes>,
) -> Option<usize> {
    let start_len = values.len();
    let result = read_segments(path, offset, shape, values, &mut classes);
    if result.is_none() {
        values.truncate(start_len);
    }
    #[cfg(test)]
    if result.is_some() {
        FAST_READS.with(|reads| reads.set(reads.get() + 1));
    }
    result
}

fn read_segments(
    path: &Path,
    offset: u64,
    shape: &Shape<'_>,
    values: &mut Vec<f64>,
    classes: &mut Option<&mut Classes>,
) -> Option<usize> {
    let mut file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(offset)).ok()?;
    // Smaller segments for smaller files keep the two buffers a small part of the memory; a
    // line longer than a segment makes the path give up, so they never go below 1 MiB.
    let segment = usize::try_from(size.saturating_sub(offset) / 8)
        .unwrap_or(usize::MAX)
        .clamp(1 << 20, segment_bytes().max(1 << 20));
    #[cfg(test)]
    let segment = segment.min(segment_bytes());
    let mut current = vec![0u8; segment];
    let mut next = vec![0u8; segment];
    let mut filled = fill(&mut file, &mut current, 0)?;
    let mut progress = Progress {
        consumed: 0,
        left: size.saturating_sub(offset),
        rows: 0,
    };
    loop {
        let at_end = filled < current.len();
        let cut = if at_end {
            filled
        } else {
            // A whole segment without a line break holds a line past the loader's limit.
            memchr::memrchr(b'\n', &current[..filled])? + 1
        };
        // The partial line at the end starts the next segment, which is read while this one
        // is parsed.
        let carried = filled - cut;
        next[..carried].copy_from_slice(&current[cut..filled]);
        let segment = &current[..cut];
        let (next_filled, parsed) = if at_end {
            (
                Some(0),
                parse_segment(segment, shape, values, classes, &mut progress),
            )
        } else {
            rayon::join(
                || fill(&mut file, &mut next, carried),
                || parse_segment(segment, shape, values, classes, &mut progress),
            )
        };
        parsed?;
        if at_end {
            return Some(progress.rows);
        }
        filled = next_filled?;
        std::mem::swap(&mut current, &mut next);
    }
}

/// Reads into `buffer` after its first `from` bytes until it is full or the file ends; the
/// bytes it then holds.
fn fill(file: &mut File, buffer: &mut [u8], from: usize) -> Option<usize> {
    let mut filled = from;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(filled)
}

/// How far the fast path has read.
struct Progress {
    /// Bytes parsed.
    consumed: u64,
    /// Bytes of the file after the start offset.
    left: u64,
    /// Rows appended.
    rows: usize,
}

/// Parses one segment (whole lines) into `values`; `None` if the fast path must give up.
fn parse_segment(
    segment: &[u8],
    shape: &Shape<'_>,
    values: &mut Vec<f64>,
    classes: &mut Option<&mut Classes>,
    progress: &mut Progress,
) -> Option<()> {
    let width = shape.selection.len();
    if memchr::memchr(b'"', segment).is_some() {
        return None;
    }
    let threads = rayon::current_num_threads().max(1);
    let pieces = split_at_lines(segment, threads * PIECES_PER_THREAD);
    // Each piece's lines bound its rows, so each is parsed straight into its own stretch of
    // the matrix; blank lines leave gaps, closed up afterwards.
    let lines: Vec<usize> = pieces.par_iter().map(|piece| line_count(piece)).collect();
    let base = values.len();
    let room = lines.iter().sum::<usize>() * width;
    progress.consumed += segment.len() as u64;
    reserve_for_rest(
        values,
        room,
        progress.left.saturating_sub(progress.consumed),
        progress.consumed,
        progress.rows,
        shape,
    );
    // The labels grow with the matrix, to as many rows as it has room for: one allocation of
    // about the final size, as for the values.
    if let Some(classes) = classes.as_deref_mut() {
        let rows_room = values.capacity() / width.max(1);
        let labels = &mut classes.labels;
        if labels.capacity() < rows_room {
            labels.reserve_exact(rows_room - labels.len());
        }
    }
    // Zeroed in parallel: the first touch of a large matrix's pages is a good part of the cost
    // of filling it.
    values.par_extend(rayon::iter::repeat_n(0.0, room));
    let mut stretches = Vec::with_capacity(pieces.len());
    let mut rest = &mut values[base..];
    for &count in &lines {
        let (stretch, after) = rest.split_at_mut(count * width);
        stretches.push(stretch);
        rest = after;
    }
    let known = classes.as_deref();
    let written: Vec<Option<(usize, Option<PieceClasses<'_>>)>> = pieces
        .par_iter()
        .zip(stretches.par_iter_mut())
        .map(|(piece, stretch)| parse_piece(piece, shape, stretch, known))
        .collect();
    let (mut write_at, mut read_at) = (base, base);
    for (written, count) in written.into_iter().zip(&lines) {
        let (piece_rows, piece_classes) = written?;
        if let (Some(classes), Some(piece_classes)) = (classes.as_deref_mut(), piece_classes) {
            // The piece's new classes in the order of their first rows, after those of the
            // pieces before it: the numbering the record path gives.
            let new = piece_classes
                .new
                .iter()
                .map(|text| classes.index_of(text))
                .collect::<Option<Vec<usize>>>()?;
            classes
                .labels
                .extend(piece_classes.labels.iter().map(|&label| {
                    if label & NEW_CLASS == 0 {
                        label
                    } else {
                        new[label & !NEW_CLASS]
                    }
                }));
        }
        if write_at != read_at {
            values.copy_within(read_at..read_at + piece_rows * width, write_at);
        }
        write_at += piece_rows * width;
        read_at += count * width;
        progress.rows += piece_rows;
    }
    values.truncate(write_at);
    if u64::try_from(values.len()).unwrap_or(u64::MAX) * 16 > shape.budget {
        return None;
    }
    Some(())
}

/// The lines of `piece`: its line breaks, and one more if it does not end with one.
fn line_count(piece: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', piece).count()
        + usize::from(piece.last().is_some_and(|&b| b != b'\n'))
}

/// Makes room for `added` values now and, from the bytes per row so far, the rows the `left`
/// bytes still hold (plus 1/64 and 64 rows), so the matrix grows in one or a few allocations of
/// about its final size, never by doubling.
fn reserve_for_rest(
    values: &mut Vec<f64>,
    added: usize,
    left: u64,
    consumed: u64,
    rows: usize,
    shape: &Shape<'_>,
) {
    if values.capacity() - values.len() >= added {
        return;
    }
    // Before any row of this path is counted, the segment's own room gives the rate.
    let rows_so_far = if rows == 0 {
        added / shape.selection.len().max(1)
    } else {
        rows
    };
    let bytes_per_row = (consumed / rows_so_far.max(1) as u64).max(1);
    let rows_left = left / bytes_per_row;
    let extra_rows = usize::try_from(rows_left + rows_left / 64 + 64).unwrap_or(usize::MAX / 2);
    let extra = extra_rows.saturating_mul(shape.selection.len());
    values.reserve_exact(added.saturating_add(extra));
}

/// The shortest piece worth a task of its own (tests lower it to cut small files into pieces).
#[cfg(not(test))]
const MIN_PIECE_BYTES: usize = 1 << 16;
#[cfg(test)]
const MIN_PIECE_BYTES: usize = 16;

/// `text` cut into about `count` pieces, each ending at a line break (the last at the end).
fn split_at_lines(text: &[u8], count: usize) -> Vec<&[u8]> {
    let target = (text.len() / count.max(1)).max(MIN_PIECE_BYTES);
    let mut pieces = Vec::with_capacity(count + 1);
    let mut start = 0;
    while start < text.len() {
        let goal = (start + target).min(text.len());
        let end = if goal == text.len() {
            goal
        } else {
            memchr::memchr(b'\n', &text[goal..]).map_or(text.len(), |at| goal + at + 1)
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

/// The selected cells of every line of `piece`, and the number of rows; `None` at the first line
/// the fast path does not read exactly like the csv crate would.
fn parse_piece<'p>(
    piece: &'p [u8],
    shape: &Shape<'_>,
    out: &mut [f64],
    classes: Option<&Classes>,
) -> Option<(usize, Option<PieceClasses<'p>>)> {
    let mut lookup = shape
        .truth
        .zip(classes)
        .map(|(_, known)| ClassLookup::new(known, out.len() / shape.selection.len().max(1)));
    // Field bounds of the current line, reused from line to line.
    let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(shape.width);
    // Most files have no CR at all; only then can lines skip looking for one.
    let has_cr = memchr::memchr(b'\r', piece).is_some();
    let mut slots = out.iter_mut();
    let mut rows = 0;
    let mut start = 0;
    while start < piece.len() {
        let end = memchr::memchr(b'\n', &piece[start..]).map_or(piece.len(), |at| start + at);
        let mut line = &piece[start..end];
        start = end + 1;
        if has_cr {
            // The CR of a CRLF belongs to the terminator; any other CR ends a record for the
            // csv crate, which this path does not follow.
            line = line.strip_suffix(b"\r").unwrap_or(line);
            if memchr::memchr(b'\r', line).is_some() {
                return None;
            }
        }
        if line.trim_ascii().is_empty() && !line.contains(&shape.delimiter) {
            // Empty and whitespace-only lines (one blank field) are skipped by the record path
            // too; a line of delimiters is a row of empty cells, which gives up below.
            continue;
        }
        bounds.clear();
        let mut field_start = 0;
        for at in memchr::memchr_iter(shape.delimiter, line) {
            bounds.push((field_start, at));
            field_start = at + 1;
        }
        bounds.push((field_start, line.len()));
        if bounds.len() != shape.width {
            return None;
        }
        for &index in shape.selection {
            let (from, to) = bounds[index];
            *slots.next()? = super::csv::parse_cell(&line[from..to]).ok()?;
        }
        if let (Some(lookup), Some(truth)) = (&mut lookup, shape.truth) {
            let (from, to) = bounds[truth];
            let text = line[from..to].trim_ascii();
            if text.is_empty() {
                return None;
            }
            lookup.push(text);
        }
        rows += 1;
    }
    Some((rows, lookup.map(|lookup| lookup.classes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv::{CsvOptions, Source, load, read};
    use proptest::prelude::*;

    /// One line of a generated file.
    #[derive(Debug, Clone)]
    enum Kind {
        Good,
        Blank,
        Spaces,
        BadCell(usize, &'static str),
        Ragged(bool),
        LoneCr,
        Quoted,
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            12 => Just(Kind::Good),
            1 => Just(Kind::Blank),
            1 => Just(Kind::Spaces),
            1 => (0usize..3, prop::sample::select(vec!["x", "", " ", "nan", "inf", "1e999"]))
                .prop_map(|(at, cell)| Kind::BadCell(at, cell)),
            1 => any::<bool>().prop_map(Kind::Ragged),
            1 => Just(Kind::LoneCr),
            1 => Just(Kind::Quoted),
        ]
    }

    /// The cells of a generated truth column: what kinds of class labels it holds.
    #[derive(Debug, Clone, Copy)]
    enum Labels {
        /// No truth column.
        None,
        /// A few whole numbers.
        Few,
        /// A few words (never data).
        Words,
        /// Up to 80 whole numbers: more classes than a detected truth column may have.
        Many,
        /// Numbers that are not whole, now and then.
        Fractions,
        /// A few whole numbers and, now and then, an empty cell.
        Gaps,
    }

    fn labels() -> impl Strategy<Value = Labels> {
        prop::sample::select(vec![
            Labels::None,
            Labels::Few,
            Labels::Words,
            Labels::Many,
            Labels::Fractions,
            Labels::Gaps,
        ])
    }

    /// The truth cell of the line with `seed`.
    fn label(labels: Labels, seed: u32) -> String {
        let pick = seed.wrapping_mul(2_246_822_519) >> 7;
        match labels {
            Labels::None => String::new(),
            Labels::Few => (pick % 4).to_string(),
            Labels::Words => ["setosa", " versicolor ", "virginica"][(pick % 3) as usize].into(),
            Labels::Many => (pick % 80).to_string(),
            Labels::Fractions if pick.is_multiple_of(13) => "1.5".into(),
            Labels::Gaps if pick.is_multiple_of(13) => " ".into(),
            Labels::Fractions | Labels::Gaps => (pick % 3).to_string(),
        }
    }

    fn file(lines: &[(Kind, u32)], header: bool, crlf: bool, delimiter: char) -> String {
        labelled_file(lines, header, crlf, delimiter, Labels::None)
    }

    fn labelled_file(
        lines: &[(Kind, u32)],
        header: bool,
        crlf: bool,
        delimiter: char,
        labels: Labels,
    ) -> String {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        let labelled = !matches!(labels, Labels::None);
        if header {
            let mut names = vec!["a", "b", "c"];
            if labelled {
                names.push("component");
            }
            text.push_str(&names.join(&delimiter.to_string()));
            text.push_str(end);
        }
        for (kind, seed) in lines {
            let cell = |j: u32| {
                let value = f64::from(seed.wrapping_mul(2_654_435_761).wrapping_add(j)) / 7.0;
                if seed % 5 == 0 {
                    format!(" {value:e} ")
                } else {
                    format!("{}", value - 1e5)
                }
            };
            let mut cells: Vec<String> = (0..3).map(cell).collect();
            if labelled {
                cells.push(label(labels, *seed));
            }
            match kind {
                Kind::Good => {}
                Kind::Blank => cells = vec![String::new()],
                Kind::Spaces => cells = vec!["   ".into()],
                Kind::BadCell(at, bad) => cells[*at] = (*bad).into(),
                Kind::Ragged(longer) => {
                    if *longer {
                        cells.push("1".into());
                    } else {
                        cells.pop();
                    }
                }
                Kind::LoneCr => cells[1] = format!("\r{}", cells[1]),
                Kind::Quoted => cells[0] = format!("\"{}\"", cells[0]),
            }
            text.push_str(&cells.join(&delimiter.to_string()));
            text.push_str(end);
        }
        text
    }

    #[test]
    fn a_plain_file_is_read_by_the_fast_path_across_segments() {
        SEGMENT_OVERRIDE.store(160, std::sync::atomic::Ordering::Relaxed);
        let lines: Vec<(Kind, u32)> = (0..400)
            .map(|i| (if i % 37 == 5 { Kind::Blank } else { Kind::Good }, i))
            .collect();
        for crlf in [false, true] {
            let text = file(&lines, true, crlf, ',');
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("plain.csv");
            std::fs::write(&path, &text).unwrap();
            let before = FAST_READS.with(std::cell::Cell::get);
            let options = CsvOptions::default();
            let fast = load(&Source::Path(path.clone()), &options).unwrap();
            assert_eq!(FAST_READS.with(std::cell::Cell::get), before + 1);
            let slow = read(text.as_bytes(), &path.display().to_string(), &options).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
            assert_eq!(fast.data.len(), 389);
        }
    }

    #[test]
    fn a_truth_column_is_read_by_the_fast_path_with_classes_in_file_order() {
        SEGMENT_OVERRIDE.store(160, std::sync::atomic::Ordering::Relaxed);
        // Classes the fast path carries to the end, and columns it hands back to the record
        // path (too many classes, an empty cell). Fractions are classes until the end, where
        // the loader turns the column back into data from them.
        for (labels, fast_to_the_end) in [
            (Labels::Few, true),
            (Labels::Words, true),
            (Labels::Many, false),
            (Labels::Fractions, true),
            (Labels::Gaps, false),
        ] {
            let lines: Vec<(Kind, u32)> = (0..400).map(|i| (Kind::Good, i)).collect();
            let text = labelled_file(&lines, true, false, ',', labels);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("labelled.csv");
            std::fs::write(&path, &text).unwrap();
            let before = FAST_READS.with(std::cell::Cell::get);
            let options = CsvOptions::default();
            let fast = load(&Source::Path(path.clone()), &options);
            let fast_reads = FAST_READS.with(std::cell::Cell::get) - before;
            assert_eq!(fast_reads, usize::from(fast_to_the_end), "{labels:?}");
            let slow = read(text.as_bytes(), &path.display().to_string(), &options);
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{labels:?}");
            // An empty cell in a column that is data after all is an error, found row by row.
            let Ok(fast) = fast else {
                assert!(matches!(labels, Labels::Gaps));
                continue;
            };
            match labels {
                // Fitted as data after all: the fourth column.
                Labels::Fractions => assert_eq!(fast.data.dim(), 4),
                Labels::Few | Labels::Words => {
                    assert_eq!(fast.truth.as_ref().map(|t| t.labels.len()), Some(400));
                    assert_eq!(fast.data.dim(), 3);
                }
                _ => {}
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the file holds, loading it from a path (where the fast path runs and gives
        /// up at anything unusual) gives what reading the same bytes record by record gives:
        /// the same values, or the same error naming the same line and column.
        #[test]
        fn the_fast_path_reads_every_file_like_the_record_path(
            lines in prop::collection::vec((kind(), any::<u32>()), 1..80),
            header in any::<bool>(),
            crlf in any::<bool>(),
            tab in any::<bool>(),
            drop_invalid in any::<bool>(),
            reorder in any::<bool>(),
            labels in labels(),
            explicit_truth in any::<bool>(),
        ) {
            SEGMENT_OVERRIDE.store(160, std::sync::atomic::Ordering::Relaxed);
            let delimiter = if tab { '\t' } else { ',' };
            let text = labelled_file(&lines, header, crlf, delimiter, labels);
            let truth = if explicit_truth && !matches!(labels, Labels::None) {
                crate::data::csv::TruthChoice::Column(if header { "component" } else { "4" }.into())
            } else {
                crate::data::csv::TruthChoice::Detect
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("data.csv");
            std::fs::write(&path, &text).unwrap();
            let options = CsvOptions {
                delimiter: delimiter as u8,
                drop_invalid,
                columns: (header && reorder).then(|| vec!["c".into(), "a".into()]),
                truth,
                ..CsvOptions::default()
            };
            let name = path.display().to_string();
            let from_path = load(&Source::Path(path.clone()), &options);
            let from_bytes = read(text.as_bytes(), &name, &options);
            match (from_path, from_bytes) {
                (Ok(a), Ok(b)) => prop_assert_eq!(format!("{a:?}"), format!("{b:?}")),
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "{:?} against {:?}", a.map(|_| ()), b.map(|_| ())),
            }
        }
    }

    fn shape(width: usize, selection: &[usize]) -> Shape<'_> {
        Shape {
            delimiter: b',',
            width,
            selection,
            budget: u64::MAX,
            truth: None,
        }
    }

    #[test]
    fn pieces_end_at_line_breaks_and_cover_the_text() {
        let text: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("{i},{}\n", i * 2).into_bytes())
            .collect();
        let pieces = split_at_lines(&text, 7);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        for piece in &pieces {
            assert_eq!(piece.last(), Some(&b'\n'));
        }
    }

    #[test]
    fn a_piece_reads_plain_rows_and_gives_up_on_anything_else() {
        let selection = [0, 2];
        let text = b"1,x,2\r\n  \n3, y ,4e0\n\n5,z,6";
        let mut out = vec![0.0; line_count(text) * 2];
        assert_eq!(
            parse_piece(text, &shape(3, &selection), &mut out, None).map(|(rows, _)| rows),
            Some(3)
        );
        assert_eq!(out[..6], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // With a tab delimiter a tab alone is two empty cells, not a blank line.
        let tabs = Shape {
            delimiter: b'\t',
            ..shape(2, &selection[..1])
        };
        let mut out = vec![0.0; 2];
        assert_eq!(
            parse_piece(b"1\t2\n \n", &tabs, &mut out, None).map(|(rows, _)| rows),
            Some(1)
        );
        assert_eq!(out[0], 1.0);
        assert!(parse_piece(b"1\t2\n\t\n", &tabs, &mut out, None).is_none());
        for bad in [
            &b"1,x\n"[..],
            b"1,x,2,3\n",
            b"1,x,\n",
            b"1,x,nan\n",
            b"1,x,2\r3,y,4\n",
            b"1,\r2,3\n",
            b"1,x,oops\n",
            b" , , \n",
        ] {
            let mut out = vec![0.0; 2 * line_count(bad)];
            assert!(
                parse_piece(bad, &shape(3, &selection), &mut out, None).is_none(),
                "{bad:?}"
            );
        }
    }
}
