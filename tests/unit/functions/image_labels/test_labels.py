from labels import label_document, unsupported_reason


def test_supported_types_and_suffixes():
    assert unsupported_reason("a.jpg", "image/jpeg") is None
    assert unsupported_reason("a.PNG", "binary/octet-stream") is None
    assert unsupported_reason("a", "image/png; charset=binary") is None
    assert "text/plain is not a JPEG or PNG" in unsupported_reason("notes.txt", "text/plain")
    assert "image/gif is not a JPEG or PNG" in unsupported_reason("a.gif", "image/gif")
    assert "no .jpg/.jpeg/.png suffix" in unsupported_reason("blob", "")


def test_label_document_keeps_names_parents_and_boxes():
    response = {
        "Labels": [
            {
                "Name": "Cup",
                "Confidence": 97.123456,
                "Parents": [{"Name": "Tableware"}],
                "Instances": [
                    {"Confidence": 95.5, "BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.4}},
                    {"Confidence": 50.0},
                ],
            },
            {"Name": "Table", "Confidence": 80.0},
        ],
        "LabelModelVersion": "3.0",
    }
    document = label_document("b", "k.jpg", response)
    assert document == {
        "bucket": "b",
        "key": "k.jpg",
        "labels": [
            {
                "name": "Cup",
                "confidence": 97.123,
                "parents": ["Tableware"],
                "instances": [
                    {"confidence": 95.5, "bounding_box": {"width": 0.2, "height": 0.3, "left": 0.1, "top": 0.4}}
                ],
            },
            {"name": "Table", "confidence": 80.0, "parents": [], "instances": []},
        ],
        "label_model_version": "3.0",
    }
