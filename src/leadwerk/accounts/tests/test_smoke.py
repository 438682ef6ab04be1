from conftest import login


def test_admin_sees_overview(client, admin):
    response = login(client, admin).get("/nordstern/")
    assert response.status_code == 200
    assert b"Nordstern" in response.content
