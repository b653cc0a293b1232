fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let doc = joint_review_lsp::analysis::document::Document::new(&text);
    println!("{}", doc.tree().root_node().to_sexp());
}
