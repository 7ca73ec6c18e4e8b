// A minimal adapter in Rust (standard library only): answers encoding/varuint_encode, "unsupported"
// to everything else. Build: rustc -O -o adapter main.rs   Run: elastos conform --impl ./adapter --suite encoding
use std::io::{self, BufRead, Write};

/// The value of `"key":...` in a request line (a string or a number; adapter inputs here are plain).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{}\":", key);
    let rest = line[line.find(&pat)? + pat.len()..].trim_start();
    let (quoted, rest) = match rest.strip_prefix('"') { Some(r) => (true, r), None => (false, rest) };
    let end = rest.find(|c| if quoted { c == '"' } else { c == ',' || c == '}' })?;
    Some(&rest[..end])
}

fn varuint(v: u64) -> Vec<u8> {
    match v {
        0..=0xFC => vec![v as u8],
        0xFD..=0xFFFF => [&[0xFD][..], &(v as u16).to_le_bytes()].concat(),
        0x1_0000..=0xFFFF_FFFF => [&[0xFE][..], &(v as u32).to_le_bytes()].concat(),
        _ => [&[0xFF][..], &v.to_le_bytes()].concat(),
    }
}

fn main() {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in io::stdin().lock().lines() {
        let line = line.unwrap();
        let reply = if line.contains("\"hello\"") {
            "{\"hello\":{\"protocol\":1,\"name\":\"rust-example\",\"version\":\"0.1\",\
             \"handlers\":[\"encoding/varuint_encode\"]}}".to_string()
        } else {
            let id = field(&line, "id").unwrap_or("0");
            match (field(&line, "handler"), field(&line, "value")) {
                (Some("encoding/varuint_encode"), Some(v)) => match v.parse::<u64>() {
                    Ok(n) => format!("{{\"id\":{},\"ok\":{{\"bytes\":\"{}\"}}}}", id,
                                     varuint(n).iter().map(|b| format!("{:02x}", b)).collect::<String>()),
                    Err(_) => format!("{{\"id\":{},\"reject\":\"VALUE_OUT_OF_RANGE\"}}", id),
                },
                _ => format!("{{\"id\":{},\"unsupported\":true}}", id),
            }
        };
        writeln!(out, "{}", reply).unwrap();
        out.flush().unwrap();
    }
}
