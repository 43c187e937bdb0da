use trace_runtime::trace;

struct Point {
    x: i32,
}

#[trace(fields(at = %point))]
fn place(point: Point) -> i32 {
    point.x
}

fn main() {
    let _ = place(Point { x: 1 });
}
