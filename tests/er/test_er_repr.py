"""ERFit shows as a compact table in Jupyter (``_repr_html_``)."""


def test_er_fit_repr_html(il6_fit):
    text = il6_fit._repr_html_()
    table = il6_fit.summary()
    assert text.startswith('<div class="blinapk-result"><p><b>ERFit: ')
    assert f"{len(il6_fit.units)} units" in text
    assert table["PARAMETER"].iloc[0] in text and f"{table['MEDIAN'].iloc[0]:.3g}" in text
